/* Rumbo web forms: the service worker, served as /collect/sw.js with
 * `Service-Worker-Allowed: /collect/` and registered with scope /collect/.
 *
 * Keeps the form pages, their definitions and expressions, and the runtime's
 * assets in a cache so that forms open offline. The pages come from the network
 * when it answers and from the cache otherwise (network first); the rest is
 * answered from the cache when it can and refreshed from the network behind it
 * (stale-while-revalidate). POSTs, /api/ and everything else go straight to
 * the network: submissions wait in the page's IndexedDB outbox, never here.
 */
'use strict';

var CACHE = 'rumbo-forms-v1';
var ASSETS = ['/static/webform.js', '/static/webform.css', '/static/app.css', '/static/app.js'];

function cacheable(url) {
  if (url.origin !== self.location.origin) return false;
  if (url.pathname.indexOf('/api/') === 0) return false;
  if (ASSETS.indexOf(url.pathname) >= 0) return true;
  // /collect/{form}, /collect/{form}/definition.json, /collect/{form}/expressions.js
  return /^\/collect\/[^/]+(\/(definition\.json|expressions\.js))?$/.test(url.pathname) && url.pathname !== '/collect/sw.js';
}

/* Only real pages of the form: not a login page reached by a redirect, not an error. */
function storable(response) {
  return response && response.ok && !response.redirected && response.type === 'basic';
}

function refresh(cache, request) {
  return fetch(request).then(function (response) {
    if (storable(response)) return cache.put(request, response.clone()).then(function () { return response; });
    return response;
  });
}

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(ASSETS.map(function (url) {
      return refresh(cache, new Request(url, { credentials: 'same-origin' }))['catch'](function () {});
    }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('rumbo-forms-') === 0 && k !== CACHE; })
      .map(function (k) { return caches['delete'](k); }));
  }).then(function () { return self.clients.claim(); }));
});

/* The page asks for its own URLs to be kept (its first load was not controlled yet). */
self.addEventListener('message', function (event) {
  var data = event.data || {};
  if (data.type !== 'rumbo-cache' || !Array.isArray(data.urls)) return;
  var urls = data.urls.filter(function (u) {
    try { return typeof u === 'string' && cacheable(new URL(u, self.location.origin)); } catch (e) { return false; }
  });
  var work = caches.open(CACHE).then(function (cache) {
    return Promise.all(urls.map(function (u) {
      var request = new Request(u, { credentials: 'same-origin' });
      return cache.match(request).then(function (hit) {
        return hit ? null : refresh(cache, request)['catch'](function () {});
      });
    }));
  });
  if (event.waitUntil) event.waitUntil(work);
});

self.addEventListener('fetch', function (event) {
  var request = event.request;
  if (request.method !== 'GET') return;
  var url = new URL(request.url);
  if (!cacheable(url)) return;
  var network = caches.open(CACHE).then(function (cache) { return refresh(cache, request); });
  var cached = caches.open(CACHE).then(function (cache) {
    return cache.match(request, { ignoreSearch: url.pathname.indexOf('/static/') === 0 });
  });
  if (request.mode === 'navigate') {
    /* The page holds the session's CSRF token and who is signed in: the network's when it
     * answers (a stale copy would send with an old token after signing in again, and
     * would hide an expired session), the kept one offline or when the server fails. */
    event.respondWith(network.then(function (response) {
      if (response.status < 500) return response;
      return cached.then(function (hit) { return hit || response; });
    }, function (error) {
      return cached.then(function (hit) { if (hit) return hit; throw error; });
    }));
    return;
  }
  event.respondWith(cached.then(function (hit) { return hit || network; }));
  event.waitUntil(network.then(function () {}, function () {}));
});
