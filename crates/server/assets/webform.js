/* Rumbo web forms: the browser runtime.
 *
 * Renders a form from its definition (`/collect/{form}/definition.json`,
 * built by `rumbo_xlsform::webform::definition`), evaluates its expressions
 * (compiled to plain functions in `/collect/{form}/expressions.js` by
 * `rumbo_xlsform::webform::expressions_js`: nothing here turns text into code,
 * so the page runs under `script-src 'self'`), and queues each submission in
 * IndexedDB before sending it, so nothing is lost offline or on a closed tab.
 *
 * Plain ES2017, no modules, no build step. Exposes `window.RumboForms`.
 * In node (the agreement test) only the expression engine is used.
 */
(function (global) {
  'use strict';

  /* ------------------------------------------------------------------ */
  /* The instance tree                                                   */
  /* ------------------------------------------------------------------ */

  var DOCUMENT = 0, ELEMENT = 1, ATTRIBUTE = 2;

  function XNode(kind, name, parent, doc) {
    this.kind = kind;
    this.name = name;
    this.value = '';
    this.parent = parent;
    this.children = [];
    this.attributes = [];
    this.doc = doc || this;
    this.ord = 0;
  }

  /* The primary instance and secondary instances (choice lists), like the
   * Rust `Instance`: every root element sits below a document node. */
  function Instance(rootName) {
    this.documents = [];
    this.secondaries = {};
    this.primary = this.newDocument();
    this.root = this.addChild(this.primary, rootName);
  }

  Instance.prototype.newDocument = function () {
    var d = new XNode(DOCUMENT, '', null, null);
    d.doc = d;
    d.index = this.documents.length;
    d.dirty = true;
    this.documents.push(d);
    return d;
  };

  Instance.prototype.addChild = function (parent, name) {
    var n = new XNode(ELEMENT, name, parent, parent.doc);
    parent.children.push(n);
    parent.doc.dirty = true;
    return n;
  };

  Instance.prototype.insertChild = function (parent, name, before) {
    var n = new XNode(ELEMENT, name, parent, parent.doc);
    var at = before ? parent.children.indexOf(before) : -1;
    if (at < 0) parent.children.push(n); else parent.children.splice(at, 0, n);
    parent.doc.dirty = true;
    return n;
  };

  Instance.prototype.remove = function (node) {
    var p = node.parent;
    if (!p) return;
    var i = p.children.indexOf(node);
    if (i >= 0) p.children.splice(i, 1);
    node.parent = null;
    p.doc.dirty = true;
  };

  Instance.prototype.addSecondary = function (id, rootName) {
    var d = this.newDocument();
    this.secondaries[id] = d;
    return this.addChild(d, rootName);
  };

  /* Document order: (document, pre-order position), attributes right after their element. */
  function orderKey(node) {
    var d = node.doc;
    if (d.dirty) {
      var next = 0, stack = [d];
      while (stack.length) {
        var n = stack.pop();
        n.ord = next++;
        for (var a = 0; a < n.attributes.length; a++) n.attributes[a].ord = next++;
        for (var c = n.children.length - 1; c >= 0; c--) stack.push(n.children[c]);
      }
      d.dirty = false;
    }
    return d.index * 1e9 + node.ord;
  }

  function sortDocumentOrder(nodes) {
    var keyed = nodes.map(function (n) { return [orderKey(n), n]; });
    keyed.sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    for (var i = 0; i < keyed.length; i++) {
      if (i === 0 || keyed[i][1] !== keyed[i - 1][1]) out.push(keyed[i][1]);
    }
    return out;
  }

  /* XPath string-value: own text, then the descendants' text in document order. */
  function stringValue(node) {
    if (node.children.length === 0) return node.value;
    var out = '', stack = [node];
    while (stack.length) {
      var n = stack.pop();
      out += n.value;
      for (var c = n.children.length - 1; c >= 0; c--) stack.push(n.children[c]);
    }
    return out;
  }

  /* ------------------------------------------------------------------ */
  /* Values and conversions (XPath 1.0, extended as ODK does for dates)  */
  /* ------------------------------------------------------------------ */

  function XPathError(message) { this.message = message; }
  XPathError.prototype.toString = function () { return this.message; };

  function XDate(days) { this.days = days; }
  /* An instant (`ms` since the epoch, UTC) shown at a fixed offset (`off`, seconds east). */
  function XDateTime(ms, off) { this.ms = ms; this.off = off; }

  var MS_DAY = 86400000;
  /* Rust's `char::is_whitespace`. */
  var WS = '\\t\\n\\u000b\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  var TRIM = new RegExp('^[' + WS + ']+|[' + WS + ']+$', 'g');
  var SPLIT = new RegExp('[' + WS + ']+');

  function trim(s) { return s.replace(TRIM, ''); }
  function words(s) {
    var t = trim(s);
    return t === '' ? [] : t.split(SPLIT);
  }
  function chars(s) { return Array.from(s); }

  function parseXPathNumber(s) {
    var t = trim(s);
    var digits = t.charAt(0) === '-' ? t.slice(1) : t;
    if (digits === '' || digits === '.' || !/^[0-9.]*$/.test(digits) || digits.indexOf('.') !== digits.lastIndexOf('.')) {
      return NaN;
    }
    return Number(t);
  }

  function textToNumber(s) {
    var n = parseXPathNumber(s);
    if (isNaN(n)) {
      var t = parseTemporal(s);
      return t ? temporalDays(t) : NaN;
    }
    return n;
  }

  function zeros(n) { return new Array(n + 1).join('0'); }

  /* XPath `string()` of a number: no exponent, shortest round-trip digits. */
  function formatNumber(n) {
    if (isNaN(n)) return 'NaN';
    if (n === Infinity) return 'Infinity';
    if (n === -Infinity) return '-Infinity';
    if (n === 0) return '0';
    var s = String(Math.abs(n));
    var e = s.indexOf('e');
    if (e >= 0) {
      var mantissa = s.slice(0, e), exp = parseInt(s.slice(e + 1), 10);
      var dot = mantissa.indexOf('.');
      var digits = mantissa.replace('.', '');
      var point = (dot < 0 ? mantissa.length : dot) + exp;
      if (point <= 0) s = '0.' + zeros(-point) + digits;
      else if (point >= digits.length) s = digits + zeros(point - digits.length);
      else s = digits.slice(0, point) + '.' + digits.slice(point);
    }
    return (n < 0 ? '-' : '') + s;
  }

  function toBool(v) {
    switch (typeof v) {
      case 'boolean': return v;
      case 'number': return v !== 0 && !isNaN(v);
      case 'string': return v.length > 0;
      default: return Array.isArray(v) ? v.length > 0 : true;
    }
  }

  function toNum(v) {
    switch (typeof v) {
      case 'boolean': return v ? 1 : 0;
      case 'number': return v;
      case 'string': return textToNumber(v);
      default:
        if (Array.isArray(v)) return v.length ? textToNumber(stringValue(v[0])) : NaN;
        return temporalDays(v);
    }
  }

  function toStr(v) {
    switch (typeof v) {
      case 'boolean': return v ? 'true' : 'false';
      case 'number': return formatNumber(v);
      case 'string': return v;
      default:
        if (Array.isArray(v)) return v.length ? stringValue(v[0]) : '';
        if (v instanceof XDate) return dateToString(v.days);
        return dateTimeToString(v);
    }
  }

  function kindOf(v) {
    switch (typeof v) {
      case 'boolean': return 'true/false';
      case 'number': return 'a number';
      case 'string': return 'text';
      default:
        if (Array.isArray(v)) return 'a set of nodes';
        return v instanceof XDate ? 'a date' : 'a date and time';
    }
  }

  /* ------------------------------------------------------------------ */
  /* Dates                                                               */
  /* ------------------------------------------------------------------ */

  function daysFromCivil(y, m, d) {
    y -= m <= 2 ? 1 : 0;
    var era = Math.floor(y / 400);
    var yoe = y - era * 400;
    var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    var doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
    return era * 146097 + doe - 719468;
  }

  function civilFromDays(z) {
    z += 719468;
    var era = Math.floor(z / 146097);
    var doe = z - era * 146097;
    var yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
    var y = yoe + era * 400;
    var doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    var mp = Math.floor((5 * doy + 2) / 153);
    var d = doy - Math.floor((153 * mp + 2) / 5) + 1;
    var m = mp + (mp < 10 ? 3 : -9);
    return [y + (m <= 2 ? 1 : 0), m, d];
  }

  function daysInMonth(y, m) {
    if (m === 2) return (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) ? 29 : 28;
    return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  }

  function pad(n, width) {
    var s = String(Math.abs(n));
    while (s.length < width) s = '0' + s;
    return (n < 0 ? '-' : '') + s;
  }

  function dateToString(days) {
    var c = civilFromDays(days);
    return pad(c[0], 4) + '-' + pad(c[1], 2) + '-' + pad(c[2], 2);
  }

  function offsetToString(off) {
    var sign = off < 0 ? '-' : '+', a = Math.abs(off);
    return sign + pad(Math.floor(a / 3600), 2) + ':' + pad(Math.floor((a % 3600) / 60), 2);
  }

  /* The local fields of a dateTime: [days, ms within the day]. */
  function localParts(dt) {
    var local = dt.ms + dt.off * 1000;
    var days = Math.floor(local / MS_DAY);
    return [days, local - days * MS_DAY];
  }

  function dateTimeToString(dt) {
    var p = localParts(dt), t = p[1];
    return dateToString(p[0]) + 'T' + pad(Math.floor(t / 3600000), 2) + ':' + pad(Math.floor(t / 60000) % 60, 2) + ':' +
      pad(Math.floor(t / 1000) % 60, 2) + '.' + pad(t % 1000, 3) + offsetToString(dt.off);
  }

  function temporalDays(t) {
    return t instanceof XDate ? t.days : t.ms / MS_DAY;
  }

  function temporalDate(t) {
    return t instanceof XDate ? t.days : localParts(t)[0];
  }

  function isDigits(s) { return /^[0-9]+$/.test(s); }

  /* `hh:mm[:ss[.fff]]` at the start of s: [ms of day, rest] or null. */
  function timePrefix(s) {
    var h = s.slice(0, 2), m = s.slice(3, 5);
    if (h.length < 2 || !isDigits(h) || s.charAt(2) !== ':' || m.length < 2 || !isDigits(m)) return null;
    var rest = s.slice(5), sec = 0, ms = 0;
    if (rest.charAt(0) === ':') {
      var ss = rest.slice(1, 3);
      if (ss.length < 2 || !isDigits(ss)) return null;
      sec = +ss;
      rest = rest.slice(3);
      if (rest.charAt(0) === '.') {
        var f = /^[0-9]*/.exec(rest.slice(1))[0];
        if (f.length === 0) return null;
        ms = Math.floor(+(f.slice(0, 9) + zeros(9 - Math.min(f.length, 9))) / 1e6);
        rest = rest.slice(1 + f.length);
      }
    }
    if (+h > 23 || +m > 59 || sec > 59) return null;
    return [((+h * 60 + +m) * 60 + sec) * 1000 + ms, rest];
  }

  /* `Z`, `±hh:mm`, `±hhmm` or `±hh`, in seconds; null otherwise. */
  function parseOffset(s) {
    if (s === 'Z') return 0;
    var sign = s.charAt(0) === '+' ? 1 : s.charAt(0) === '-' ? -1 : 0;
    if (!sign) return null;
    var h = s.slice(1, 3);
    if (h.length < 2 || !isDigits(h)) return null;
    var rest = s.slice(3), m = 0;
    if (rest !== '') {
      if (rest.charAt(0) === ':') rest = rest.slice(1);
      var mm = rest.slice(0, 2);
      if (mm.length < 2 || !isDigits(mm) || rest.length !== 2) return null;
      m = +mm;
    }
    var off = sign * (+h * 3600 + m * 60);
    return Math.abs(off) < 86400 ? off : null;
  }

  /* A date (`2024-05-31`) or a dateTime (no offset means UTC); null otherwise. */
  function parseTemporal(text) {
    var s = trim(text);
    if (s.length < 10 || !/^[0-9]/.test(s)) return null;
    var m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})/.exec(s);
    if (!m) return null;
    var y = +m[1], mo = +m[2], d = +m[3];
    if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
    var days = daysFromCivil(y, mo, d);
    var rest = s.slice(10);
    if (rest === '') return new XDate(days);
    if (rest.charAt(0) !== 'T') return null;
    var t = timePrefix(rest.slice(1));
    if (!t) return null;
    var off = t[1] === '' ? 0 : parseOffset(t[1]);
    if (off === null) return null;
    return new XDateTime(days * MS_DAY + t[0] - off * 1000, off);
  }

  /* A time of day: [ms of day, offset seconds or null]. */
  function parseTime(text) {
    var t = timePrefix(trim(text));
    if (!t) return null;
    if (t[1] === '') return [t[0], null];
    var off = parseOffset(t[1]);
    return off === null ? null : [t[0], off];
  }

  function dateFromDays(days) {
    if (!isFinite(days) || Math.abs(days) > 1e8) return null;
    return new XDate(Math.floor(days));
  }

  function roundHalfAway(x) {
    var r = Math.trunc(x);
    if (Math.abs(x - r) >= 0.5) r += x < 0 ? -1 : 1;
    return r;
  }

  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

  function formatTemporal(t, pattern) {
    var days, ms;
    if (t instanceof XDate) { days = t.days; ms = 0; } else { var p = localParts(t); days = p[0]; ms = p[1]; }
    var c = civilFromDays(days);
    var out = '', cs = chars(pattern);
    for (var i = 0; i < cs.length; i++) {
      if (cs[i] !== '%') { out += cs[i]; continue; }
      if (i + 1 >= cs.length) { out += '%'; break; }
      var code = cs[++i];
      switch (code) {
        case 'Y': out += pad(c[0], 4); break;
        case 'y': out += pad(((c[0] % 100) + 100) % 100, 2); break;
        case 'm': out += pad(c[1], 2); break;
        case 'n': out += String(c[1]); break;
        case 'b': out += MONTHS[c[1] - 1]; break;
        case 'd': out += pad(c[2], 2); break;
        case 'e': out += String(c[2]); break;
        case 'a': out += WEEKDAYS[(((days + 4) % 7) + 7) % 7]; break;
        case 'H': out += pad(Math.floor(ms / 3600000), 2); break;
        case 'h': out += String(Math.floor(ms / 3600000)); break;
        case 'M': out += pad(Math.floor(ms / 60000) % 60, 2); break;
        case 'S': out += pad(Math.floor(ms / 1000) % 60, 2); break;
        case '3': out += pad(ms % 1000, 3); break;
        default: out += '%' + code;
      }
    }
    return out;
  }

  /* ------------------------------------------------------------------ */
  /* Comparisons (XPath 1.0 §3.4, with ODK dates)                        */
  /* ------------------------------------------------------------------ */

  function isTemporal(v) { return v instanceof XDate || v instanceof XDateTime; }

  function atomTemporal(v) {
    if (isTemporal(v)) return v;
    if (typeof v === 'string') return parseTemporal(v);
    if (typeof v === 'number') return dateFromDays(v);
    return null;
  }

  function compareAtoms(op, l, r) {
    if (op === '=' || op === '!=') {
      var equal;
      if (typeof l === 'boolean' || typeof r === 'boolean') equal = toBool(l) === toBool(r);
      else if (typeof l === 'number' || typeof r === 'number') equal = toNum(l) === toNum(r);
      else if (isTemporal(l) || isTemporal(r)) {
        var a = atomTemporal(l), b = atomTemporal(r);
        equal = a && b ? temporalDays(a) === temporalDays(b) : toStr(l) === toStr(r);
      } else equal = toStr(l) === toStr(r);
      return equal === (op === '=');
    }
    var x = toNum(l), y = toNum(r);
    switch (op) {
      case '<': return x < y;
      case '<=': return x <= y;
      case '>': return x > y;
      default: return x >= y;
    }
  }

  function compare(op, l, r) {
    var ln = Array.isArray(l), rn = Array.isArray(r);
    if (ln && typeof r === 'boolean') return compareAtoms(op, l.length > 0, r);
    if (rn && typeof l === 'boolean') return compareAtoms(op, l, r.length > 0);
    var i, j;
    if (ln && rn) {
      for (i = 0; i < l.length; i++) {
        var ls = stringValue(l[i]);
        for (j = 0; j < r.length; j++) if (compareAtoms(op, ls, stringValue(r[j]))) return true;
      }
      return false;
    }
    if (ln) {
      for (i = 0; i < l.length; i++) if (compareAtoms(op, stringValue(l[i]), r)) return true;
      return false;
    }
    if (rn) {
      for (j = 0; j < r.length; j++) if (compareAtoms(op, l, stringValue(r[j]))) return true;
      return false;
    }
    return compareAtoms(op, l, r);
  }

  /* ------------------------------------------------------------------ */
  /* The evaluation environment `R` the compiled expressions call        */
  /* ------------------------------------------------------------------ */

  /* options: { instance, lists: {listName: {choice name: label}}, choiceFields: {field: list},
   *            now: Date (fixed moment, optional), offset: seconds east of UTC (optional) } */
  function Env(options) {
    this.inst = options.instance;
    this.choiceLabels = options.choiceLabels || Object.create(null);
    this.choiceFields = options.choiceFields || Object.create(null);
    this.fixedNow = options.now || null;
    this.offset = typeof options.offset === 'number' ? options.offset : null;
    this.regexes = {};
  }

  var R = Env.prototype;

  R.fail = function (message) { throw new XPathError(message); };
  R.num = toNum;
  R.bool = toBool;
  R.str = toStr;
  R.cmp = compare;

  R.nowMs = function () { return this.fixedNow ? this.fixedNow.getTime() : Date.now(); };
  R.nowOffset = function () {
    if (this.offset !== null) return this.offset;
    return -new Date(this.nowMs()).getTimezoneOffset() * 60;
  };

  /* Evaluates compiled function `f` with `node` as context and current(). */
  R.evaluate = function (f, node, current) {
    return f(this, { node: node, pos: 1, size: 1, cur: current || node });
  };

  R.union = function (a, b) {
    if (!Array.isArray(a) || !Array.isArray(b)) {
      this.fail('`|` can only join sets of nodes, not ' + kindOf(Array.isArray(a) ? b : a));
    }
    return sortDocumentOrder(a.concat(b));
  };

  function matchesTest(node, axis, test) {
    var principal = axis === 3 ? ATTRIBUTE : ELEMENT;
    if (test === 2) return true;
    if (test === 1) return node.kind === principal;
    if (test === 3) return false;
    return node.kind === principal && node.name === test;
  }

  function descendants(node, out) {
    var stack = node.children.slice().reverse();
    while (stack.length) {
      var n = stack.pop();
      out.push(n);
      for (var c = n.children.length - 1; c >= 0; c--) stack.push(n.children[c]);
    }
    return out;
  }

  function axisNodes(node, axis) {
    var out, p, i;
    switch (axis) {
      case 0: return node.children;
      case 1: return node.parent ? [node.parent] : [];
      case 2: return [node];
      case 3: return node.attributes;
      case 4: return descendants(node, []);
      case 5: return descendants(node, [node]);
      case 6: case 7:
        out = axis === 7 ? [node] : [];
        for (p = node.parent; p; p = p.parent) out.push(p);
        return out;
      case 8: case 9:
        if (!node.parent || node.kind !== ELEMENT) return [];
        var s = node.parent.children;
        i = s.indexOf(node);
        if (axis === 8) return s.slice(i + 1);
        return s.slice(0, Math.max(i, 0)).reverse();
    }
    return [];
  }

  R.filterNodes = function (c, nodes, predicate) {
    var size = nodes.length, kept = [];
    for (var i = 0; i < size; i++) {
      var v = predicate({ node: nodes[i], pos: i + 1, size: size, cur: c.cur });
      var keep = typeof v === 'number' ? v === i + 1 : toBool(v);
      if (keep) kept.push(nodes[i]);
    }
    return kept;
  };

  R.steps = function (c, nodes, steps) {
    for (var s = 0; s < steps.length; s++) {
      var axis = steps[s][0], test = steps[s][1], predicates = steps[s][2];
      var next = [];
      for (var n = 0; n < nodes.length; n++) {
        var node = nodes[n];
        var found = axisNodes(node, axis).filter(function (x) { return matchesTest(x, axis, test); });
        if (test === 3 && axis === 0 && node.value !== '') found.push(node);
        if (predicates) {
          for (var p = 0; p < predicates.length; p++) found = this.filterNodes(c, found, predicates[p]);
        }
        for (var f = 0; f < found.length; f++) next.push(found[f]);
      }
      var ordered = next.length <= 1 || (nodes.length === 1 && (axis === 0 || axis === 3 || axis === 2 || axis === 4 || axis === 5 || axis === 8));
      nodes = ordered ? next : sortDocumentOrder(next);
    }
    return nodes;
  };

  R.path = function (c, absolute, steps) {
    return this.steps(c, [absolute ? this.inst.primary : c.node], steps);
  };

  R.filter = function (c, value, predicates, steps, text) {
    if (!Array.isArray(value)) {
      this.fail('`' + text + '`: `[...]` and `/` can only follow a set of nodes, but it is ' + kindOf(value));
    }
    for (var p = 0; p < predicates.length; p++) value = this.filterNodes(c, value, predicates[p]);
    return this.steps(c, value, steps);
  };

  /* `${name}`: the part of the field's path shared with current() (the same
   * repeat instance) comes from current()'s own ancestors, as in JavaRosa. */
  R.field = function (c, path) { return this.resolve(path, c.cur); };
  R.fieldAll = function (path) { return this.resolve(path, null); };

  R.resolve = function (path, current) {
    var nodes = [this.inst.primary], rest = path, i;
    if (current && path.length) {
      var chain = [], node = current;
      while (node && node.kind !== DOCUMENT) { chain.push(node); node = node.parent; }
      if (node === this.inst.primary) {
        var shared = 0;
        for (i = 0; i < path.length - 1 && i < chain.length; i++) {
          if (chain[chain.length - 1 - i].name !== path[i]) break;
          shared++;
        }
        if (shared > 0) {
          nodes = [chain[chain.length - shared]];
          rest = path.slice(shared);
        }
      }
    }
    for (i = 0; i < rest.length; i++) {
      var next = [];
      for (var n = 0; n < nodes.length; n++) {
        var ch = nodes[n].children;
        for (var k = 0; k < ch.length; k++) if (ch[k].name === rest[i]) next.push(ch[k]);
      }
      nodes = next;
    }
    return nodes;
  };

  R.once = function (c, thunk) {
    var existing = c.cur.value;
    return existing === '' ? thunk() : existing;
  };

  R.indexedRepeat = function (c, args) {
    var self = this, within = null;
    function nodesOf(i) {
      var v = args[i]();
      if (!Array.isArray(v)) self.fail('`indexed-repeat()` needs a field or path as argument ' + (i + 1) + ', not ' + kindOf(v));
      return v;
    }
    for (var pair = 1; pair < args.length; pair += 2) {
      var repeats = nodesOf(pair);
      var index = toNum(args[pair + 1]());
      var candidates = repeats.filter(function (r) { return within === null || isAncestorOrSelf(within, r); });
      var chosen = index >= 1 && isFinite(index) ? candidates[Math.floor(index) - 1] : undefined;
      if (!chosen) return '';
      within = chosen;
    }
    var found = nodesOf(0).filter(function (v) { return within === null || isAncestorOrSelf(within, v); })[0];
    return found ? stringValue(found) : '';
  };

  function isAncestorOrSelf(ancestor, node) {
    for (var n = node; n; n = n.parent) if (n === ancestor) return true;
    return false;
  }

  function nodesArg(self, name, v, i) {
    if (!Array.isArray(v)) {
      self.fail('`' + name + '()` needs a set of nodes (such as a field inside a repeat) as argument ' + (i + 1) + ', not ' + kindOf(v));
    }
    return v;
  }

  /* Node-sets spread into one text per node. */
  function flattened(args, from) {
    var out = [];
    for (var i = from; i < args.length; i++) {
      if (Array.isArray(args[i])) for (var k = 0; k < args[i].length; k++) out.push(stringValue(args[i][k]));
      else out.push(args[i]);
    }
    return out;
  }

  /* A date or dateTime argument; null for empty text or NaN. */
  R.temporal = function (name, v, asInstant) {
    if (isTemporal(v)) return v;
    if (typeof v === 'number') {
      if (isNaN(v)) return null;
      var t = null;
      if (asInstant) {
        if (isFinite(v) && Math.abs(v) <= 1e8) t = new XDateTime(roundHalfAway(v * MS_DAY), this.nowOffset());
      } else t = dateFromDays(v);
      if (!t) this.fail('`' + name + '()` cannot read ' + formatNumber(v) + ' as a date');
      return t;
    }
    if (typeof v === 'boolean') this.fail('`' + name + '()` cannot read true/false as a date');
    var text = toStr(v);
    if (trim(text) === '') return null;
    var parsed = parseTemporal(text);
    if (parsed) return parsed;
    var n = parseXPathNumber(text);
    if (!isNaN(n)) return dateFromDays(n);
    return this.fail('`' + name + '()` cannot read `' + text + '` as a date (expected YYYY-MM-DD)');
  };

  function roundDigits(x, digits) {
    if (isNaN(digits) || !isFinite(x)) return isNaN(digits) ? NaN : x;
    digits = Math.max(-300, Math.min(300, Math.trunc(digits)));
    if (digits === 0) return roundHalfAway(x);
    var factor = Math.pow(10, digits);
    var scaled = x * factor;
    if (!isFinite(scaled)) return x;
    return roundHalfAway(scaled) / factor;
  }

  var EARTH_RADIUS_M = 6378100;

  function parsePoints(self, name, text) {
    var points = [], parts = text.split(';');
    for (var i = 0; i < parts.length; i++) {
      var point = trim(parts[i]);
      if (point === '') continue;
      var ns = words(point).map(parseXPathNumber);
      var ok = ns.length >= 2 && ns.length <= 4 && ns.every(isFinite) && ns[0] >= -90 && ns[0] <= 90 && ns[1] >= -180 && ns[1] <= 180;
      if (!ok) self.fail('`' + name + '()` cannot read `' + point + '` as a point (latitude longitude [altitude accuracy])');
      points.push([ns[0] * Math.PI / 180, ns[1] * Math.PI / 180]);
    }
    return points;
  }

  function pathLength(points) {
    var total = 0;
    for (var i = 1; i < points.length; i++) {
      var lat1 = points[i - 1][0], lon1 = points[i - 1][1], lat2 = points[i][0], lon2 = points[i][1];
      var h = Math.pow(Math.sin((lat2 - lat1) / 2), 2) + Math.cos(lat1) * Math.cos(lat2) * Math.pow(Math.sin((lon2 - lon1) / 2), 2);
      total += 2 * EARTH_RADIUS_M * Math.asin(Math.min(Math.sqrt(h), 1));
    }
    return total;
  }

  function polygonArea(points) {
    if (points.length < 3) return 0;
    var total = 0;
    for (var i = 0; i < points.length; i++) {
      var a = points[i], b = points[(i + 1) % points.length];
      total += (b[1] - a[1]) * (2 + Math.sin(a[0]) + Math.sin(b[0]));
    }
    return Math.abs(total * EARTH_RADIUS_M * EARTH_RADIUS_M / 2);
  }

  function checked(v) {
    if (typeof v === 'boolean') return v;
    return toNum(v) > 0 || trim(toStr(v)) === 'true';
  }

  function fieldOfReference(reference) {
    var r = trim(reference);
    if (r.slice(0, 2) === '${' && r.slice(-1) === '}' && r.length >= 3) return trim(r.slice(2, -1));
    var parts = r.split('/');
    return trim(parts[parts.length - 1]);
  }

  function randomBytes(n) {
    var bytes = new Uint8Array(n);
    var c = global.crypto;
    if (c && c.getRandomValues) c.getRandomValues(bytes);
    else for (var i = 0; i < n; i++) bytes[i] = Math.floor(Math.random() * 256);
    return bytes;
  }

  function uuidV4() {
    var b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x < 16 ? '0' : '') + x.toString(16); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  /* The function library: `R["f:name"](c, ...arguments)`. */
  var F = {
    'not': function (c, a) { return !toBool(a); },
    'boolean': function (c, a) { return toBool(a); },
    'number': function (c, a) { return arguments.length < 2 ? textToNumber(stringValue(c.node)) : toNum(a); },
    'string': function (c, a) { return arguments.length < 2 ? stringValue(c.node) : toStr(a); },
    'concat': function (c) {
      var out = '';
      for (var i = 1; i < arguments.length; i++) {
        var a = arguments[i];
        if (Array.isArray(a)) for (var k = 0; k < a.length; k++) out += stringValue(a[k]);
        else out += toStr(a);
      }
      return out;
    },
    'contains': function (c, a, b) { return toStr(a).indexOf(toStr(b)) >= 0; },
    'starts-with': function (c, a, b) { return toStr(a).slice(0, toStr(b).length) === toStr(b); },
    'ends-with': function (c, a, b) { var s = toStr(a), t = toStr(b); return t.length <= s.length && s.slice(s.length - t.length) === t; },
    'substring-before': function (c, a, b) { var s = toStr(a), i = s.indexOf(toStr(b)); return i < 0 ? '' : s.slice(0, i); },
    'substring-after': function (c, a, b) { var s = toStr(a), t = toStr(b), i = s.indexOf(t); return i < 0 ? '' : s.slice(i + t.length); },
    'substring': function (c, a, b, l) {
      var cs = chars(toStr(a));
      var start = Math.floor(toNum(b) + 0.5);
      var end = arguments.length > 3 ? start + Math.floor(toNum(l) + 0.5) : Infinity;
      var out = '';
      for (var i = 0; i < cs.length; i++) if (i + 1 >= start && i + 1 < end) out += cs[i];
      return out;
    },
    'substr': function (c, a, b, e) {
      var cs = chars(toStr(a));
      function clamp(x) { return isNaN(x) ? 0 : Math.trunc(Math.max(0, Math.min(cs.length, x))); }
      var start = clamp(toNum(b)), end = arguments.length > 3 ? clamp(toNum(e)) : cs.length;
      return start < end ? cs.slice(start, end).join('') : '';
    },
    'string-length': function (c, a) { return chars(arguments.length < 2 ? stringValue(c.node) : toStr(a)).length; },
    'normalize-space': function (c, a) { return words(arguments.length < 2 ? stringValue(c.node) : toStr(a)).join(' '); },
    'translate': function (c, a, b, d) {
      var from = chars(toStr(b)), to = chars(toStr(d));
      return chars(toStr(a)).map(function (ch) {
        var i = from.indexOf(ch);
        return i < 0 ? ch : (i < to.length ? to[i] : '');
      }).join('');
    },
    'count': function (c, a) { return nodesArg(this, 'count', a, 0).length; },
    'count-non-empty': function (c, a) { return nodesArg(this, 'count-non-empty', a, 0).filter(function (n) { return stringValue(n) !== ''; }).length; },
    'sum': function (c, a) {
      var ns = nodesArg(this, 'sum', a, 0), total = 0;
      for (var i = 0; i < ns.length; i++) total += textToNumber(stringValue(ns[i]));
      return total;
    },
    'floor': function (c, a) { return Math.floor(toNum(a)); },
    'ceiling': function (c, a) { return Math.ceil(toNum(a)); },
    'round': function (c, a, d) { return roundDigits(toNum(a), arguments.length > 2 ? toNum(d) : 0); },
    'int': function (c, a) { return Math.trunc(toNum(a)); },
    'abs': function (c, a) { return Math.abs(toNum(a)); },
    'pow': function (c, a, b) { return Math.pow(toNum(a), toNum(b)); },
    'log': function (c, a) { return Math.log(toNum(a)); },
    'log10': function (c, a) { return Math.log10(toNum(a)); },
    'exp': function (c, a) { return Math.exp(toNum(a)); },
    'exp10': function (c, a) { return Math.pow(10, toNum(a)); },
    'sqrt': function (c, a) { return Math.sqrt(toNum(a)); },
    'sin': function (c, a) { return Math.sin(toNum(a)); },
    'cos': function (c, a) { return Math.cos(toNum(a)); },
    'tan': function (c, a) { return Math.tan(toNum(a)); },
    'asin': function (c, a) { return Math.asin(toNum(a)); },
    'acos': function (c, a) { return Math.acos(toNum(a)); },
    'atan': function (c, a) { return Math.atan(toNum(a)); },
    'atan2': function (c, a, b) { return Math.atan2(toNum(a), toNum(b)); },
    'pi': function () { return Math.PI; },
    'min': function (c) { return minMax(flattened(arguments, 1), true); },
    'max': function (c) { return minMax(flattened(arguments, 1), false); },
    'last': function (c) { return c.size; },
    'position': function (c, a) {
      if (arguments.length < 2) return c.pos;
      var ns = nodesArg(this, 'position', a, 0);
      if (!ns.length) this.fail('`position()` needs a node, but the set of nodes is empty');
      var node = ns[0];
      if (!node.parent) return 1;
      var index = 1, sib = node.parent.children;
      for (var i = 0; i < sib.length && sib[i] !== node; i++) if (sib[i].name === node.name) index++;
      return index;
    },
    'name': function (c, a) { return nodeName(this, c, arguments.length < 2 ? null : a, false); },
    'local-name': function (c, a) { return nodeName(this, c, arguments.length < 2 ? null : a, true); },
    'coalesce': function (c, a, b) { var first = toStr(a); return first === '' ? toStr(b) : first; },
    'selected': function (c, a, b) { var v = trim(toStr(b)); return words(toStr(a)).indexOf(v) >= 0; },
    'selected-at': function (c, a, b) {
      var n = toNum(b);
      var item = isFinite(n) && n >= 0 ? words(toStr(a))[Math.floor(n)] : undefined;
      return item === undefined ? '' : item;
    },
    'count-selected': function (c, a) { return words(toStr(a)).length; },
    'jr:choice-name': function (c, a, b) {
      var value = toStr(a);
      var field = fieldOfReference(toStr(b));
      field = trim(field).replace(/^(\$\{)+/, '').replace(/\}+$/, '');
      var list = this.choiceFields[field];
      var labels = list !== undefined ? this.choiceLabels[list] : undefined;
      var label = labels ? labels[trim(value)] : undefined;
      return typeof label === 'string' ? label : '';
    },
    'regex': function (c, a, b) {
      var pattern = toStr(b);
      var re = this.regexes[pattern];
      if (!re) {
        try { re = new RegExp(pattern, 'u'); } catch (e) {
          this.fail('`regex()` pattern `' + pattern + '` is not a valid regular expression: ' + e.message);
        }
        this.regexes[pattern] = re;
      }
      return re.test(toStr(a));
    },
    'boolean-from-string': function (c, a) { var s = trim(toStr(a)); return s.toLowerCase() === 'true' || s === '1'; },
    'join': function (c, sep) { return flattened(arguments, 2).map(toStr).join(toStr(sep)); },
    'date': function (c, a) { var t = this.temporal('date', a, false); return t ? new XDate(temporalDate(t)) : ''; },
    'decimal-date-time': function (c, a) {
      if (typeof a === 'number') return a;
      var t = this.temporal('decimal-date-time', a, true);
      return t ? temporalDays(t) : NaN;
    },
    'decimal-date': function (c, a) { var t = this.temporal('decimal-date', a, false); return t ? temporalDate(t) : NaN; },
    'decimal-time': function (c, a) {
      var s = toStr(a);
      if (trim(s) === '') return NaN;
      var i = s.indexOf('T');
      var parsed = parseTime(i >= 0 ? s.slice(i + 1) : s);
      if (!parsed) this.fail('`decimal-time()` cannot read `' + s + '` as a time (expected hh:mm:ss)');
      var seconds = parsed[0] / 1000;
      var shift = parsed[1] === null ? 0 : this.nowOffset() - parsed[1];
      var x = seconds + shift;
      return (((x % 86400) + 86400) % 86400) / 86400;
    },
    'today': function () { var off = this.nowOffset(); return new XDate(Math.floor((this.nowMs() + off * 1000) / MS_DAY)); },
    'now': function () { return new XDateTime(this.nowMs(), this.nowOffset()); },
    'format-date': function (c, a, p) { var t = this.temporal('format-date', a, false); var pat = toStr(p); return t ? formatTemporal(t, pat) : ''; },
    'format-date-time': function (c, a, p) { var t = this.temporal('format-date-time', a, true); var pat = toStr(p); return t ? formatTemporal(t, pat) : ''; },
    'uuid': function (c, n) {
      if (arguments.length < 2) return uuidV4();
      var len = toNum(n);
      if (!(len >= 0 && len <= 10000)) this.fail('`uuid()` length must be from 0 to 10000, got ' + formatNumber(len));
      var alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', out = '';
      var bytes = randomBytes(Math.floor(len));
      for (var i = 0; i < bytes.length; i++) out += alphabet.charAt(bytes[i] % 62);
      return out;
    },
    'random': function () { return Math.random(); },
    /* Shuffles; with a seed the order is stable here but differs from the server's. */
    'randomize': function (c, a, seed) {
      var ns = nodesArg(this, 'randomize', a, 0).slice();
      var state = arguments.length > 2 ? (toNum(seed) * 2654435761) >>> 0 : null;
      function next() {
        if (state === null) return Math.random();
        state = (state + 0x6D2B79F5) >>> 0;
        var t = Math.imul(state ^ (state >>> 15), 1 | state);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
      }
      for (var i = ns.length - 1; i > 0; i--) {
        var j = Math.floor(next() * (i + 1));
        var tmp = ns[i]; ns[i] = ns[j]; ns[j] = tmp;
      }
      return ns;
    },
    'distance': function (c, a) { return pathLength(parsePoints(this, 'distance', pointsText(a))); },
    'area': function (c, a) { return polygonArea(parsePoints(this, 'area', pointsText(a))); },
    'checklist': function (c, min, max) {
      var total = flattened(arguments, 3).filter(checked).length;
      return checklistHolds(toNum(min), toNum(max), total);
    },
    'weighted-checklist': function (c, min, max) {
      var argc = arguments.length - 1;
      if (argc % 2 !== 0) this.fail('`weighted-checklist()` takes a minimum, a maximum and then pairs of value and weight');
      var total = 0;
      for (var i = 3; i < arguments.length; i += 2) if (checked(arguments[i])) total += toNum(arguments[i + 1]);
      return checklistHolds(toNum(min), toNum(max), total);
    },
    'instance': function (c, a) {
      var id = toStr(a);
      var d = Object.prototype.hasOwnProperty.call(this.inst.secondaries, id) ? this.inst.secondaries[id] : null;
      if (!d) this.fail('`instance()` refers to `' + id + '`, but the form has no choice list or data by that name');
      return [d];
    },
    'current': function (c) { return [c.cur]; },
    'pulldata': function (c, a, b, k, q) {
      var id = toStr(a);
      var d = Object.prototype.hasOwnProperty.call(this.inst.secondaries, id) ? this.inst.secondaries[id] : null;
      if (!d || !d.children.length) this.fail('`pulldata()` can only run on a device: the data `' + id + '` is not available here');
      var wanted = toStr(b), key = toStr(k), query = toStr(q);
      var items = d.children[0].children;
      for (var i = 0; i < items.length; i++) {
        var fs = items[i].children;
        var hit = fs.some(function (f) { return f.name === key && stringValue(f) === query; });
        if (hit) {
          for (var j = 0; j < fs.length; j++) if (fs[j].name === wanted) return stringValue(fs[j]);
          return '';
        }
      }
      return '';
    },
    'digest': deviceOnly('digest'),
    'base64-decode': deviceOnly('base64-decode'),
    'extract-signed': deviceOnly('extract-signed'),
    'jr:itext': deviceOnly('jr:itext')
  };

  function deviceOnly(name) {
    return function () { this.fail('`' + name + '()` can only run on a device'); };
  }

  function checklistHolds(min, max, total) {
    return (min < 0 || total >= min) && (max < 0 || total <= max);
  }

  function pointsText(a) {
    if (Array.isArray(a) && a.length > 1) return a.map(stringValue).join(';');
    return toStr(a);
  }

  function minMax(values, isMin) {
    var ns = values.map(toNum);
    if (!ns.length || ns.some(isNaN)) return NaN;
    return ns.reduce(function (acc, x) { return isMin ? Math.min(acc, x) : Math.max(acc, x); }, isMin ? Infinity : -Infinity);
  }

  function nodeName(self, c, a, local) {
    var node = a === null ? c.node : nodesArg(self, local ? 'local-name' : 'name', a, 0)[0];
    var full = node ? node.name : '';
    if (local) { var i = full.lastIndexOf(':'); return i >= 0 ? full.slice(i + 1) : full; }
    return full;
  }

  Object.keys(F).forEach(function (name) { R['f:' + name] = F[name]; });

  /* ------------------------------------------------------------------ */
  /* Forms: the definition, its instance, relevance and calculations     */
  /* ------------------------------------------------------------------ */

  var registered = {};
  var waiting = {};

  function register(key, functions) {
    registered[key] = functions;
    (waiting[key] || []).forEach(function (resolve) { resolve(functions); });
    delete waiting[key];
  }

  function expressionsFor(key) {
    if (registered[key]) return Promise.resolve(registered[key]);
    return new Promise(function (resolve) { (waiting[key] = waiting[key] || []).push(resolve); });
  }

  /* Translated text: the language, else the default column, else any (the first by name). */
  function textIn(translated, language) {
    if (!translated) return '';
    if (language && Object.prototype.hasOwnProperty.call(translated, language)) return translated[language];
    if (Object.prototype.hasOwnProperty.call(translated, 'default')) return translated['default'];
    var keys = Object.keys(translated).sort();
    return keys.length ? translated[keys[0]] : '';
  }

  /* Adds every choice list as a secondary instance `instance('list')/root/item/{name,label,...}`. */
  function addChoiceInstances(instance, definition, language) {
    (definition.choices || []).forEach(function (list) {
      var root = instance.addSecondary(list.name, 'root');
      list.choices.forEach(function (choice) {
        var item = instance.addChild(root, 'item');
        instance.addChild(item, 'name').value = choice.name;
        instance.addChild(item, 'label').value = textIn(choice.label, language);
        (choice.extra || []).forEach(function (pair) { instance.addChild(item, pair[0]).value = pair[1]; });
        choice.item = item;
      });
    });
  }

  function choiceLabels(definition, language) {
    var out = Object.create(null);
    (definition.choices || []).forEach(function (list) {
      var labels = Object.create(null);
      list.choices.forEach(function (choice) {
        labels[choice.name] = textIn(choice.label, language);
      });
      out[list.name] = labels;
    });
    return out;
  }

  function choiceFields(definition) {
    var out = Object.create(null);
    Object.keys(definition.names || {}).forEach(function (name) {
      var list = definition.names[name].list;
      if (list !== undefined) out[name] = list;
    });
    return out;
  }

  /* The expression environment of a definition, over a fresh instance. */
  function environment(definition, options) {
    options = options || {};
    var language = options.language || definition.default_language;
    var instance = new Instance(definition.root);
    addChoiceInstances(instance, definition, definition.default_language);
    return new Env({
      instance: instance,
      choiceLabels: choiceLabels(definition, language),
      choiceFields: choiceFields(definition),
      now: options.now,
      offset: options.offset
    });
  }

  /* A live form: the instance, kept up to date as answers change. */
  function FormState(definition, functions, options) {
    this.def = definition;
    this.fns = functions;
    this.env = environment(definition, options);
    this.inst = this.env.inst;
    this.places = [];
    var self = this;
    (function number(fields, parent) {
      fields.forEach(function (f) {
        f.parentPlace = parent;
        self.places[f.id] = f;
        if (f.children) number(f.children, f);
      });
    })(definition.fields, null);
    this.build(this.inst.root, definition.fields);
  }

  FormState.prototype.build = function (parent, fields) {
    var self = this;
    fields.forEach(function (f) {
      if (f.kind === 'repeat') {
        if (f.repeat_count === undefined) self.addRepeat(parent, f);
        return;
      }
      var node = self.inst.addChild(parent, f.name);
      node.place = f;
      node.relevant = true;
      if (f.kind === 'group') self.build(node, f.children || []);
      else self.initial(node);
    });
  };

  FormState.prototype.initial = function (node) {
    var f = node.place;
    if (f.default !== undefined) node.value = f.default;
    if (f.type === 'metadata') node.value = preloadValue(f.preload, this.env);
  };

  /* Dynamic defaults once the whole entry exists (they may refer to its other fields). */
  FormState.prototype.dynamicDefaults = function (top) {
    var self = this;
    walkNodes(top, function (node) {
      var f = node.place;
      if (f && f.default_expr !== undefined) {
        try { node.value = toStr(self.env.evaluate(self.fns[f.default_expr], node)); } catch (e) { if (!(e instanceof XPathError)) throw e; }
      }
    });
  };

  FormState.prototype.addRepeat = function (parent, f) {
    var siblings = parent.children.filter(function (n) { return n.place === f; });
    var last = siblings[siblings.length - 1];
    var before = null;
    if (last) before = parent.children[parent.children.indexOf(last) + 1] || null;
    else {
      // Keep form order: before the first later sibling place.
      var later = (f.parentPlace ? f.parentPlace.children : this.def.fields);
      var after = later.slice(later.indexOf(f) + 1).map(function (p) { return p; });
      for (var i = 0; i < parent.children.length && !before; i++) {
        if (after.indexOf(parent.children[i].place) >= 0) before = parent.children[i];
      }
    }
    var node = this.inst.insertChild(parent, f.name, before);
    node.place = f;
    node.relevant = true;
    this.build(node, f.children || []);
    this.dynamicDefaults(node);
    return node;
  };

  FormState.prototype.removeRepeat = function (node) { this.inst.remove(node); };

  function walkNodes(top, visit) {
    var stack = [top];
    while (stack.length) {
      var n = stack.pop();
      visit(n);
      for (var c = n.children.length - 1; c >= 0; c--) stack.push(n.children[c]);
    }
  }

  FormState.prototype.nodesByPlace = function () {
    var byPlace = [];
    walkNodes(this.inst.root, function (n) {
      if (n.place) (byPlace[n.place.id] = byPlace[n.place.id] || []).push(n);
    });
    return byPlace;
  };

  FormState.prototype.holds = function (index, node, otherwise) {
    try { return toBool(this.env.evaluate(this.fns[index], node)); } catch (e) {
      if (e instanceof XPathError) return otherwise;
      throw e;
    }
  };

  /* Repeat counts, then relevance and calculations in dependency order (as the server computes them). */
  FormState.prototype.recompute = function () {
    var self = this;
    this.applyRepeatCounts();
    var byPlace = this.nodesByPlace();
    this.def.order.forEach(function (id) {
      var f = self.places[id];
      (byPlace[id] || []).forEach(function (node) {
        if (!node.parent) return;
        var relevant = node.parent.relevant !== false;
        if (relevant && f.relevant !== undefined) relevant = self.holds(f.relevant, node, true);
        node.relevant = relevant;
        if (f.kind !== 'question') return;
        if (!relevant) node.value = '';
        else if (f.calculate !== undefined && f.trigger === undefined) {
          try { node.value = toStr(self.env.evaluate(self.fns[f.calculate], node)); } catch (e) { if (!(e instanceof XPathError)) throw e; }
        }
      });
    });
  };

  FormState.prototype.applyRepeatCounts = function () {
    var self = this;
    var changed = true, rounds = 0;
    while (changed && rounds++ < 5) {
      changed = false;
      walkNodes(this.inst.root, function (group) {
        var f = group.place;
        var fields = group === self.inst.root ? self.def.fields : (f && f.kind !== 'question' ? f.children || [] : []);
        fields.forEach(function (child) {
          if (child.kind !== 'repeat' || child.repeat_count === undefined) return;
          var n;
          try { n = toNum(self.env.evaluate(self.fns[child.repeat_count], group)); } catch (e) { if (!(e instanceof XPathError)) throw e; return; }
          var want = isFinite(n) && n > 0 ? Math.min(Math.round(n), 500) : 0;
          var have = group.children.filter(function (x) { return x.place === child; });
          while (have.length < want) { have.push(self.addRepeat(group, child)); changed = true; }
          while (have.length > want) { self.removeRepeat(have.pop()); changed = true; }
        });
      });
    }
  };

  /* A trigger field changed: calculations it triggers run now. */
  FormState.prototype.triggered = function (name) {
    var self = this;
    walkNodes(this.inst.root, function (node) {
      var f = node.place;
      if (f && f.trigger && f.trigger.indexOf(name) >= 0 && f.calculate !== undefined && node.relevant !== false) {
        try { node.value = toStr(self.env.evaluate(self.fns[f.calculate], node)); } catch (e) { if (!(e instanceof XPathError)) throw e; }
      }
    });
  };

  FormState.prototype.isRequired = function (node) {
    var r = node.place.required;
    if (r === undefined) return false;
    if (r === true) return true;
    return this.holds(r, node, false);
  };

  FormState.prototype.isReadonly = function (node) {
    var r = node.place.readonly;
    if (r === undefined) return false;
    if (r === true) return true;
    return this.holds(r, node, false);
  };

  /* Items of the field's list its choice_filter keeps (current() is the question). */
  FormState.prototype.choicesFor = function (node) {
    var f = node.place;
    var list = null;
    for (var i = 0; i < (this.def.choices || []).length; i++) if (this.def.choices[i].name === f.list) list = this.def.choices[i];
    if (!list) return [];
    if (f.choice_filter === undefined) return list.choices;
    var self = this, fn = this.fns[f.choice_filter];
    return list.choices.filter(function (choice) {
      try { return toBool(self.env.evaluate(fn, choice.item, node)); } catch (e) {
        if (e instanceof XPathError) return true;
        throw e;
      }
    });
  };

  /* What is wrong with one answer (as the server would say), or null. */
  FormState.prototype.problem = function (node, ui) {
    var f = node.place;
    if (f.kind !== 'question' || node.relevant === false) return null;
    var text = trim(node.value);
    var lang = ui.language;
    if (text === '') {
      if (this.isRequired(node)) return textIn(f.required_message, lang) || ui.t('required');
      return null;
    }
    var typeProblem = typeCheck(f, text, ui);
    if (typeProblem) return typeProblem;
    if (f.list && (f.type === 'select_one' || f.type === 'select_multiple')) {
      var offered = this.choicesFor(node).map(function (c) { return c.name; });
      var chosen = f.type === 'select_one' ? [text] : words(text);
      for (var i = 0; i < chosen.length; i++) {
        if (offered.indexOf(chosen[i]) < 0 && !(f.or_other && chosen[i] === 'other')) return ui.t('not_a_choice');
      }
    }
    if (f.constraint !== undefined && !this.holds(f.constraint, node, true)) {
      return textIn(f.constraint_message, lang) || ui.t('constraint');
    }
    return null;
  };

  function decimalRange(f) {
    var p = f.parameters || {};
    return ['start', 'end', 'step'].some(function (k) { return p[k] !== undefined && /[.eE]/.test(p[k]); });
  }

  function typeCheck(f, text, ui) {
    var t = f.type;
    if (t === 'integer' || (t === 'range' && !decimalRange(f))) return /^[-+]?[0-9]+$/.test(text) ? null : ui.t('integer');
    if (t === 'decimal' || t === 'range') return /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text) ? null : ui.t('decimal');
    if (t === 'date') return parseTemporal(text) instanceof XDate ? null : ui.t('date');
    if (t === 'time') return parseTime(text) ? null : ui.t('time');
    if (t === 'dateTime') return parseTemporal(text) instanceof XDateTime ? null : ui.t('datetime');
    if (t === 'geopoint') {
      var ns = words(text).map(parseXPathNumber);
      var ok = ns.length >= 2 && ns.length <= 4 && ns.every(isFinite) && Math.abs(ns[0]) <= 90 && Math.abs(ns[1]) <= 180;
      return ok ? null : ui.t('geopoint');
    }
    return null;
  }

  /* The submission as JSON, in the shape `Validator::validate_json` reads. */
  FormState.prototype.record = function (instanceId) {
    var out = objectOf(this.inst.root);
    out.meta = Object.assign({}, out.meta && typeof out.meta === 'object' ? out.meta : {}, { instanceID: instanceId });
    return out;
  };

  function objectOf(group) {
    var out = {};
    group.children.forEach(function (node) {
      var f = node.place;
      if (!f || node.relevant === false) return;
      if (f.kind === 'repeat') {
        (out[f.name] = out[f.name] || []).push(objectOf(node));
      } else if (f.kind === 'group') {
        out[f.name] = objectOf(node);
      } else {
        var v = answerJson(f, node.value);
        if (v !== undefined) out[f.name] = v;
      }
    });
    return out;
  }

  function answerJson(f, value) {
    var text = trim(value);
    if (text === '' || f.type === 'note') return undefined;
    if (f.type === 'select_multiple' || f.type === 'rank') return words(text);
    if (f.type === 'integer' && /^-?[0-9]{1,15}$/.test(text)) return Number(text);
    return value;
  }

  function preloadValue(preload, env) {
    var now = new XDateTime(env.nowMs(), env.nowOffset());
    switch (preload) {
      case 'start': case 'end': return dateTimeToString(now);
      case 'today': return dateToString(temporalDate(now));
      case 'deviceid': return deviceId();
      default: return '';
    }
  }

  function deviceId() {
    var key = 'rumbo-forms-device-id';
    try {
      var id = global.localStorage && global.localStorage.getItem(key);
      if (!id) { id = 'rumbo-web:' + uuidV4(); global.localStorage.setItem(key, id); }
      return id;
    } catch (e) { return 'rumbo-web:unknown'; }
  }

  /* The engine, for the agreement test and for scripts that need it. */
  var engine = {
    Instance: Instance,
    Env: Env,
    XPathError: XPathError,
    XDate: XDate,
    XDateTime: XDateTime,
    environment: environment,
    addChoiceInstances: addChoiceInstances,
    FormState: FormState,
    toStr: toStr,
    toNum: toNum,
    toBool: toBool,
    stringValue: stringValue,
    formatNumber: formatNumber,
    parseTemporal: parseTemporal,
    uuidV4: uuidV4
  };

  var RumboForms = global.RumboForms || {};
  RumboForms.register = register;
  RumboForms.engine = engine;
  RumboForms.expressionsFor = expressionsFor;
  RumboForms.functions = function (key) { return registered[key] || null; };
  RumboForms._ui = {};
  global.RumboForms = RumboForms;
  (global.RumboFormsPending || []).forEach(function (p) { register(p[0], p[1]); });
  global.RumboFormsPending = [];

  if (typeof module !== 'undefined' && module.exports) module.exports = RumboForms;
  /* ------------------------------------------------------------------ */
  /* The page: rendering, answers, submission                            */
  /* ------------------------------------------------------------------ */

  if (typeof document === 'undefined') return;

  var STRINGS = {
    en: {
      language: 'Language', submit: 'Save and send', add: 'Add', remove: 'Remove', remove_confirm: 'Remove this entry and its answers?',
      required: 'An answer is required.', constraint: 'This answer is not allowed.', not_a_choice: 'Choose one of the options offered.',
      integer: 'Enter a whole number.', decimal: 'Enter a number.', date: 'Enter a date.', time: 'Enter a time.', datetime: 'Enter a date and time.',
      geopoint: 'Enter a latitude and a longitude.', locate: 'Use my location', locating: 'Finding your location…',
      no_location: 'The location is not available: ', latitude: 'Latitude', longitude: 'Longitude', accuracy: 'Accuracy (m)',
      choose: '— choose —', unsupported: 'This question cannot be answered in the web form (use ODK Collect or KoboCollect).',
      acknowledge: 'OK', not_set: 'not set', fix: '{n} answers need attention.', saved: 'Saved. It will be sent as soon as possible.',
      pending: '{n} waiting to be sent', syncing: 'Sending…', all_sent: 'Everything has been sent.', retry: 'Retry now',
      failed: 'Refused by the server', discard: 'Discard', discard_confirm: 'Discard this submission for good?',
      last_error: 'Last attempt: ', offline: 'offline', loading: 'Loading the form…', load_failed: 'The form could not be loaded: ',
      no_storage: 'This browser cannot keep submissions offline; they are sent right away.', entry: 'Entry {n}'
    },
    es: {
      language: 'Idioma', submit: 'Guardar y enviar', add: 'Agregar', remove: 'Quitar', remove_confirm: '¿Quitar esta entrada y sus respuestas?',
      required: 'Esta respuesta es obligatoria.', constraint: 'Esta respuesta no es válida.', not_a_choice: 'Elija una de las opciones ofrecidas.',
      integer: 'Escriba un número entero.', decimal: 'Escriba un número.', date: 'Escriba una fecha.', time: 'Escriba una hora.', datetime: 'Escriba una fecha y hora.',
      geopoint: 'Escriba una latitud y una longitud.', locate: 'Usar mi ubicación', locating: 'Buscando su ubicación…',
      no_location: 'La ubicación no está disponible: ', latitude: 'Latitud', longitude: 'Longitud', accuracy: 'Precisión (m)',
      choose: '— elija —', unsupported: 'Esta pregunta no se puede responder en el formulario web (use ODK Collect o KoboCollect).',
      acknowledge: 'De acuerdo', not_set: 'sin valor', fix: '{n} respuestas necesitan atención.', saved: 'Guardado. Se enviará en cuanto sea posible.',
      pending: '{n} por enviar', syncing: 'Enviando…', all_sent: 'Todo ha sido enviado.', retry: 'Reintentar ahora',
      failed: 'Rechazado por el servidor', discard: 'Descartar', discard_confirm: '¿Descartar este envío definitivamente?',
      last_error: 'Último intento: ', offline: 'sin conexión', loading: 'Cargando el formulario…', load_failed: 'No se pudo cargar el formulario: ',
      no_storage: 'Este navegador no puede guardar envíos sin conexión; se envían de inmediato.', entry: 'Entrada {n}'
    },
    pt: {
      language: 'Idioma', submit: 'Salvar e enviar', add: 'Adicionar', remove: 'Remover', remove_confirm: 'Remover esta entrada e suas respostas?',
      required: 'Esta resposta é obrigatória.', constraint: 'Esta resposta não é válida.', not_a_choice: 'Escolha uma das opções oferecidas.',
      integer: 'Digite um número inteiro.', decimal: 'Digite um número.', date: 'Digite uma data.', time: 'Digite uma hora.', datetime: 'Digite uma data e hora.',
      geopoint: 'Digite uma latitude e uma longitude.', locate: 'Usar minha localização', locating: 'Buscando sua localização…',
      no_location: 'A localização não está disponível: ', latitude: 'Latitude', longitude: 'Longitude', accuracy: 'Precisão (m)',
      choose: '— escolha —', unsupported: 'Esta pergunta não pode ser respondida no formulário web (use ODK Collect ou KoboCollect).',
      acknowledge: 'OK', not_set: 'sem valor', fix: '{n} respostas precisam de atenção.', saved: 'Salvo. Será enviado assim que possível.',
      pending: '{n} aguardando envio', syncing: 'Enviando…', all_sent: 'Tudo foi enviado.', retry: 'Tentar agora',
      failed: 'Recusado pelo servidor', discard: 'Descartar', discard_confirm: 'Descartar este envio definitivamente?',
      last_error: 'Última tentativa: ', offline: 'sem conexão', loading: 'Carregando o formulário…', load_failed: 'Não foi possível carregar o formulário: ',
      no_storage: 'Este navegador não pode guardar envios sem conexão; eles são enviados imediatamente.', entry: 'Entrada {n}'
    }
  };

  function uiStrings(code) {
    var lang = String(code || document.documentElement.lang || 'en').toLowerCase().slice(0, 2);
    var table = STRINGS[lang] || STRINGS.en;
    return function (key, n) {
      var s = table[key] || STRINGS.en[key] || key;
      return n === undefined ? s : s.replace('{n}', String(n));
    };
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  var uid = 0;
  function nextId(prefix) { uid += 1; return prefix + uid; }

  function has(appearance, word) {
    return (' ' + (appearance || '') + ' ').indexOf(' ' + word + ' ') >= 0;
  }

  var UNSUPPORTED = ['image', 'audio', 'video', 'file', 'osm', 'rank', 'start-geopoint', 'background-audio', 'background-geopoint'];
  var NO_CONTROL = ['calculate', 'hidden', 'metadata', 'none', 'start-geopoint', 'background-audio', 'background-geopoint'];

  /* The local offset of a moment, as ODK writes it (`+02:00`). */
  function localOffsetText(date) {
    return offsetToString(-date.getTimezoneOffset() * 60);
  }

  /* ----- the outbox: IndexedDB `rumbo-forms`, store `outbox` ----- */

  var outboxDb = null;
  function openOutbox() {
    if (outboxDb) return outboxDb;
    outboxDb = new Promise(function (resolve, reject) {
      if (!global.indexedDB) { reject(new Error('no IndexedDB')); return; }
      var request = global.indexedDB.open('rumbo-forms', 1);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'instance_id' });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
    return outboxDb;
  }

  function outboxDo(mode, action) {
    return openOutbox().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction('outbox', mode);
        var result;
        var request = action(tx.objectStore('outbox'));
        if (request) request.onsuccess = function () { result = request.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }

  var outbox = {
    put: function (item) { return outboxDo('readwrite', function (s) { return s.put(item); }); },
    remove: function (id) { return outboxDo('readwrite', function (s) { return s['delete'](id); }); },
    all: function () { return outboxDo('readonly', function (s) { return s.getAll(); }); }
  };

  /* ----- sending: one loop per page, backoff on network trouble ----- */

  function Sync(t, csrfToken) {
    this.t = t;
    this.csrf = csrfToken || '';
    this.busy = false;
    this.again = false;
    this.timer = null;
    this.lastError = '';
    this.listeners = [];
    this.items = [];
    var self = this;
    global.addEventListener('online', function () { self.run({ now: true }); });
  }

  Sync.prototype.onChange = function (f) { this.listeners.push(f); };
  Sync.prototype.changed = function () {
    var self = this;
    this.listeners.forEach(function (f) { f(self); });
  };

  Sync.prototype.refresh = function () {
    var self = this;
    return outbox.all().then(function (items) { self.items = items || []; self.changed(); }, function () { self.changed(); });
  };

  function backoff(attempts) { return Math.min(5 * 60 * 1000, 5000 * Math.pow(2, Math.min(attempts, 10))); }

  Sync.prototype.send = function (item) {
    var self = this;
    return fetch(item.submit_url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': self.csrf || item.csrf || '' },
      body: JSON.stringify(item.body)
    }).then(function (response) {
      if (response.status === 201 || response.status === 202 || response.status === 200) return outbox.remove(item.instance_id);
      var retry = response.status >= 500 || response.status === 408 || response.status === 429 || response.status < 400;
      return response.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        var message = (body && (body.error || body.message)) || (response.status + ' ' + response.statusText);
        if (retry) return self.postpone(item, message);
        item.state = 'failed';
        item.error = message;
        item.fields = body && Array.isArray(body.fields) ? body.fields : [];
        return outbox.put(item);
      });
    }, function (error) {
      return self.postpone(item, (global.navigator && global.navigator.onLine === false) ? self.t('offline') : String(error && error.message || error));
    });
  };

  Sync.prototype.postpone = function (item, message) {
    item.attempts = (item.attempts || 0) + 1;
    item.next_at = Date.now() + backoff(item.attempts);
    item.error = message;
    this.lastError = message;
    return outbox.put(item);
  };

  /* Sends what is due; `now` ignores backoff, `failed` also retries refused items. */
  Sync.prototype.run = function (options) {
    var self = this;
    options = options || {};
    if (this.busy) { this.again = true; return Promise.resolve(); }
    this.busy = true;
    this.changed();
    return outbox.all().then(function (items) {
      var due = (items || []).filter(function (item) {
        if (item.state === 'failed') return !!options.failed;
        return options.now || !item.next_at || item.next_at <= Date.now();
      });
      return due.reduce(function (chain, item) {
        if (item.state === 'failed') { item.state = 'pending'; item.error = ''; item.fields = []; }
        return chain.then(function () { return self.send(item); });
      }, Promise.resolve());
    }).then(function () { return self.finish(); }, function (error) {
      self.lastError = String(error && error.message || error);
      return self.finish();
    });
  };

  Sync.prototype.finish = function () {
    var self = this;
    this.busy = false;
    return this.refresh().then(function () {
      if (self.again) { self.again = false; return self.run({}); }
      var next = self.items.filter(function (i) { return i.state !== 'failed'; })
        .map(function (i) { return i.next_at || Date.now(); });
      if (self.timer) clearTimeout(self.timer);
      self.timer = null;
      if (next.length) {
        var wait = Math.max(1000, Math.min.apply(null, next) - Date.now());
        self.timer = setTimeout(function () { self.run({}); }, wait);
      }
      if (!self.items.some(function (i) { return i.state !== 'failed'; })) self.lastError = '';
    });
  };

  Sync.prototype.discard = function (id) {
    var self = this;
    return outbox.remove(id).then(function () { return self.refresh(); });
  };

  var syncs = {};
  function syncFor(t, csrf) {
    var key = csrf || '';
    if (!syncs[key]) syncs[key] = new Sync(t, csrf);
    return syncs[key];
  }

  /* ----- the status bar ----- */

  function renderStatus(bar, sync, t) {
    clear(bar);
    var pending = sync.items.filter(function (i) { return i.state !== 'failed'; });
    var failed = sync.items.filter(function (i) { return i.state === 'failed'; });
    var line = el('div', 'rf-status-line');
    var text = sync.busy ? t('syncing') : pending.length ? t('pending', pending.length) : '';
    if (text) line.appendChild(el('span', 'rf-status-text', text));
    if (sync.lastError && pending.length) line.appendChild(el('span', 'rf-status-error', t('last_error') + sync.lastError));
    if (pending.length || failed.length) {
      var retry = el('button', 'rf-retry', t('retry'));
      retry.type = 'button';
      retry.disabled = sync.busy;
      retry.addEventListener('click', function () { sync.run({ now: true, failed: true }); });
      line.appendChild(retry);
    }
    bar.appendChild(line);
    if (failed.length) {
      var list = el('ul', 'rf-failed');
      failed.forEach(function (item) {
        var li = el('li', 'rf-failed-item');
        li.appendChild(el('strong', null, t('failed') + ': '));
        li.appendChild(el('span', null, item.error || ''));
        if (item.fields && item.fields.length) {
          var fl = el('ul', 'rf-failed-fields');
          item.fields.forEach(function (f) { fl.appendChild(el('li', null, (f.field || f.path || '') + ': ' + (f.message || ''))); });
          li.appendChild(fl);
        }
        li.appendChild(el('small', 'rf-failed-id', item.instance_id));
        var discard = el('button', 'rf-discard', t('discard'));
        discard.type = 'button';
        discard.addEventListener('click', function () {
          if (global.confirm(t('discard_confirm'))) sync.discard(item.instance_id);
        });
        li.appendChild(discard);
        list.appendChild(li);
      });
      bar.appendChild(list);
    }
    bar.hidden = !text && !failed.length && !pending.length;
  }

  /* ----- the form ----- */

  function WebForm(container, definition, functions, options) {
    this.container = container;
    this.def = definition;
    this.fns = functions;
    this.options = options || {};
    this.t = uiStrings(this.options.uiLanguage);
    var languages = definition.languages || [];
    var wanted = this.options.language;
    this.language = wanted && languages.indexOf(wanted) >= 0 ? wanted : (definition.default_language || languages[0] || null);
    this.sync = syncFor(this.t, this.options.csrfToken);
    this.views = [];
    this.showAll = false;
    this.pendingFrame = false;
    this.reset();
    var self = this;
    this.sync.onChange(function () { if (self.statusBar) renderStatus(self.statusBar, self.sync, self.t); });
    this.sync.refresh().then(function () { self.sync.run({ now: true }); });
  }

  WebForm.prototype.reset = function () {
    this.state = new FormState(this.def, this.fns, { language: this.language });
    this.state.dynamicDefaults(this.state.inst.root);
    this.state.recompute();
    this.showAll = false;
    this.render();
  };

  WebForm.prototype.render = function () {
    var focused = document.activeElement && document.activeElement.getAttribute('data-rf-key');
    clear(this.container);
    this.views = [];
    this.container.classList.add('rf');
    var t = this.t, self = this;
    this.statusBar = el('div', 'rf-status');
    this.statusBar.setAttribute('role', 'status');
    this.statusBar.setAttribute('aria-live', 'polite');
    this.container.appendChild(this.statusBar);
    renderStatus(this.statusBar, this.sync, t);
    var head = el('header', 'rf-head');
    head.appendChild(el('h1', 'rf-title', this.def.title || this.def.id));
    var languages = this.def.languages || [];
    if (languages.length > 1) {
      var label = el('label', 'rf-language');
      label.appendChild(el('span', null, t('language') + ' '));
      var select = el('select');
      languages.forEach(function (l) {
        var o = el('option', null, l === 'default' ? '—' : l);
        o.value = l;
        if (l === self.language) o.selected = true;
        select.appendChild(o);
      });
      select.addEventListener('change', function () {
        self.language = select.value;
        self.state.env.choiceLabels = choiceLabels(self.def, self.language);
        self.render();
      });
      label.appendChild(select);
      head.appendChild(label);
    }
    this.container.appendChild(head);
    this.message = el('div', 'rf-message');
    this.message.hidden = true;
    this.message.setAttribute('role', 'alert');
    this.container.appendChild(this.message);
    var form = el('form', 'rf-form');
    form.noValidate = true;
    form.addEventListener('submit', function (event) { event.preventDefault(); self.submit(); });
    this.renderChildren(form, this.state.inst.root, this.def.fields);
    var submit = el('button', 'rf-submit', t('submit'));
    submit.type = 'submit';
    form.appendChild(submit);
    this.container.appendChild(form);
    this.refresh();
    if (focused) {
      var again = this.container.querySelector('[data-rf-key="' + focused.replace(/"/g, '') + '"]');
      if (again) again.focus();
    }
  };

  WebForm.prototype.text = function (translated, node) {
    var text = textIn(translated, this.language);
    if (!text || text.indexOf('${') < 0) return text;
    var env = this.state.env, names = this.def.names || {};
    return text.replace(/\$\{([^}]+)\}/g, function (all, name) {
      var entry = names[trim(name)];
      if (!entry || !entry.path) return all;
      var found = env.resolve(entry.path, node);
      return found.length ? stringValue(found[0]) : '';
    });
  };

  WebForm.prototype.renderChildren = function (parentEl, parentNode, fields) {
    var self = this;
    fields.forEach(function (f) {
      if (f.kind === 'repeat') { self.renderRepeat(parentEl, parentNode, f); return; }
      var node = parentNode.children.filter(function (n) { return n.place === f; })[0];
      if (!node) return;
      if (f.kind === 'group') self.renderGroup(parentEl, node);
      else self.renderQuestion(parentEl, node);
    });
  };

  WebForm.prototype.renderGroup = function (parentEl, node) {
    var f = node.place, self = this;
    var box = el('fieldset', 'rf-group' + (has(f.appearance, 'field-list') ? ' rf-field-list' : ''));
    var legend = null;
    if (f.label) { legend = el('legend', 'rf-group-label'); box.appendChild(legend); }
    this.renderChildren(box, node, f.children || []);
    parentEl.appendChild(box);
    this.views.push({ node: node, el: box, refresh: function () { if (legend) legend.textContent = self.text(f.label, node); } });
  };

  WebForm.prototype.renderRepeat = function (parentEl, parentNode, f) {
    var self = this, t = this.t;
    var section = el('section', 'rf-repeat');
    var heading = el('h2', 'rf-repeat-label');
    section.appendChild(heading);
    var entries = parentNode.children.filter(function (n) { return n.place === f; });
    entries.forEach(function (node, i) {
      var box = el('fieldset', 'rf-repeat-entry');
      var legend = el('legend', 'rf-group-label');
      box.appendChild(legend);
      self.renderChildren(box, node, f.children || []);
      if (f.repeat_count === undefined) {
        var remove = el('button', 'rf-remove', t('remove'));
        remove.type = 'button';
        remove.addEventListener('click', function () {
          if (!global.confirm(t('remove_confirm'))) return;
          self.state.removeRepeat(node);
          self.changed(true);
        });
        box.appendChild(remove);
      }
      section.appendChild(box);
      self.views.push({ node: node, el: box, refresh: function () {
        var label = self.text(f.label, node);
        legend.textContent = (label ? label + ' — ' : '') + t('entry', i + 1);
      } });
    });
    if (f.repeat_count === undefined) {
      var add = el('button', 'rf-add', t('add'));
      add.type = 'button';
      add.addEventListener('click', function () {
        self.state.addRepeat(parentNode, f);
        self.changed(true);
      });
      section.appendChild(add);
    }
    parentEl.appendChild(section);
    // The section is hidden with its parent; the entries each by their own relevance.
    this.views.push({ node: parentNode, el: section, refresh: function () { heading.textContent = self.text(f.label, parentNode); } });
  };

  WebForm.prototype.renderQuestion = function (parentEl, node) {
    var f = node.place, t = this.t, self = this;
    if (NO_CONTROL.indexOf(f.type) >= 0) return;
    var key = nextId('rf-');
    var box = el('div', 'rf-field rf-type-' + f.type);
    var label = el('label', 'rf-label');
    label.htmlFor = key;
    var labelText = el('span', 'rf-label-text');
    var star = el('span', 'rf-required', ' *');
    star.setAttribute('aria-hidden', 'true');
    label.appendChild(labelText);
    label.appendChild(star);
    box.appendChild(label);
    var hint = el('div', 'rf-hint');
    box.appendChild(hint);
    var control = this.control(node, key);
    if (control) box.appendChild(control.el);
    var error = el('div', 'rf-error');
    error.id = key + '-error';
    error.setAttribute('aria-live', 'polite');
    box.appendChild(error);
    parentEl.appendChild(box);
    this.views.push({ node: node, el: box, question: true, refresh: function () {
      labelText.textContent = self.text(f.label, node) || (f.type === 'note' ? '' : f.name);
      var h = self.text(f.hint, node);
      hint.textContent = h;
      hint.hidden = !h;
      star.hidden = !self.state.isRequired(node);
      var readonly = self.state.isReadonly(node) || f.type === 'note';
      if (control) control.update(readonly);
      var problem = (node.touched || self.showAll) ? self.state.problem(node, self) : null;
      error.textContent = problem || '';
      error.hidden = !problem;
      box.classList.toggle('rf-invalid', !!problem);
    } });
  };

  /* Sets an answer from a widget. */
  WebForm.prototype.answer = function (node, value) {
    if (node.value === value) return;
    node.value = value;
    node.touched = true;
    var f = node.place;
    if (f) this.state.triggered(f.name);
    this.changed(false);
  };

  /* After any change: recompute, then redraw (everything when entries came or went). */
  WebForm.prototype.changed = function (structural) {
    var before = countNodes(this.state.inst.root);
    this.state.recompute();
    if (structural || countNodes(this.state.inst.root) !== before) this.render();
    else this.refresh();
  };

  function countNodes(root) {
    var n = 0;
    walkNodes(root, function () { n += 1; });
    return n;
  }

  WebForm.prototype.refresh = function () {
    this.views.forEach(function (view) {
      var hidden = view.node.relevant === false || !view.node.parent;
      view.el.hidden = hidden;
      if (!hidden) view.refresh();
    });
  };

  WebForm.prototype.inputControl = function (node, key, type, attributes) {
    var self = this;
    var multiline = node.place.type === 'text' && has(node.place.appearance, 'multiline');
    var input = el(multiline ? 'textarea' : 'input', 'rf-input');
    if (!multiline) input.type = type;
    input.id = key;
    input.setAttribute('data-rf-key', key);
    Object.keys(attributes || {}).forEach(function (k) {
      if (typeof attributes[k] === 'string') input.setAttribute(k, attributes[k]);
    });
    var toWidget = attributes && attributes.toWidget, fromWidget = attributes && attributes.fromWidget;
    input.addEventListener('input', function () { self.answer(node, fromWidget ? fromWidget(input.value) : input.value); });
    input.addEventListener('blur', function () { node.touched = true; self.refresh(); });
    return {
      el: input,
      update: function (readonly) {
        var shown = toWidget ? toWidget(node.value) : node.value;
        if (document.activeElement !== input && input.value !== shown) input.value = shown;
        input.readOnly = readonly;
      }
    };
  };

  WebForm.prototype.control = function (node, key) {
    var f = node.place, t = this.t, self = this;
    var p = f.parameters || {};
    switch (f.type) {
      case 'text': case 'barcode': case 'select_one_external': case 'geotrace': case 'geoshape':
        return this.inputControl(node, key, 'text', {});
      case 'integer': return this.inputControl(node, key, 'number', { step: '1', inputmode: 'numeric' });
      case 'decimal': return this.inputControl(node, key, 'number', { step: 'any', inputmode: 'decimal' });
      case 'date': return this.inputControl(node, key, 'date', {});
      case 'time': return this.inputControl(node, key, 'time', {
        step: '1',
        toWidget: function (v) { return v.slice(0, 8); },
        fromWidget: function (v) {
          if (!v) return '';
          var full = v.length === 5 ? v + ':00' : v.slice(0, 8);
          return full + '.000' + localOffsetText(new Date());
        }
      });
      case 'dateTime': return this.inputControl(node, key, 'datetime-local', {
        toWidget: function (v) {
          var dt = parseTemporal(v);
          if (!(dt instanceof XDateTime)) return '';
          var d = new Date(dt.ms);
          return pad(d.getFullYear(), 4) + '-' + pad(d.getMonth() + 1, 2) + '-' + pad(d.getDate(), 2) + 'T' + pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2);
        },
        fromWidget: function (v) {
          var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(v);
          if (!m) return '';
          var d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5]);
          return m[1] + '-' + m[2] + '-' + m[3] + 'T' + m[4] + ':' + m[5] + ':00.000' + localOffsetText(d);
        }
      });
      case 'select_one': case 'select_multiple': return this.selectControl(node, key);
      case 'geopoint': return this.geopointControl(node, key);
      case 'acknowledge': case 'trigger': {
        var wrap = el('label', 'rf-choice');
        var box = el('input');
        box.type = 'checkbox';
        box.id = key;
        box.setAttribute('data-rf-key', key);
        box.addEventListener('change', function () { self.answer(node, box.checked ? 'OK' : ''); });
        wrap.appendChild(box);
        wrap.appendChild(el('span', null, t('acknowledge')));
        return { el: wrap, update: function (readonly) { box.checked = node.value !== ''; box.disabled = readonly; } };
      }
      case 'range': {
        var wrapR = el('div', 'rf-range');
        var range = el('input');
        range.type = 'range';
        range.id = key;
        range.setAttribute('data-rf-key', key);
        range.min = p.start !== undefined ? p.start : '1';
        range.max = p.end !== undefined ? p.end : '10';
        range.step = p.step !== undefined ? p.step : '1';
        var out = el('output', 'rf-range-value');
        range.addEventListener('input', function () { self.answer(node, range.value); });
        wrapR.appendChild(range);
        wrapR.appendChild(out);
        return { el: wrapR, update: function (readonly) {
          if (node.value !== '' && range.value !== node.value) range.value = node.value;
          out.textContent = node.value === '' ? t('not_set') : node.value;
          range.disabled = readonly;
        } };
      }
      case 'note': return null;
      default:
        if (UNSUPPORTED.indexOf(f.type) >= 0) {
          // Photos, recordings and files need the device apps: the web form does not upload attachments.
          var note = el('p', 'rf-unsupported', t('unsupported'));
          return { el: note, update: function () {} };
        }
        return this.inputControl(node, key, 'text', {});
    }
  };

  WebForm.prototype.selectControl = function (node, key) {
    var f = node.place, self = this, t = this.t;
    var multiple = f.type === 'select_multiple';
    var minimal = !multiple && (has(f.appearance, 'minimal') || has(f.appearance, 'autocomplete'));
    var wrap = el(minimal ? 'div' : 'div', 'rf-choices' + (has(f.appearance, 'horizontal') || has(f.appearance, 'columns') ? ' rf-horizontal' : ''));
    var shownKey = null, inputs = [], select = null;
    var group = nextId('rf-g');
    function draw(choices) {
      clear(wrap);
      inputs = [];
      if (minimal) {
        select = el('select', 'rf-input');
        select.id = key;
        select.setAttribute('data-rf-key', key);
        var empty = el('option', null, t('choose'));
        empty.value = '';
        select.appendChild(empty);
        choices.forEach(function (c) {
          var o = el('option', null, textIn(c.label, self.language) || c.name);
          o.value = c.name;
          select.appendChild(o);
        });
        select.addEventListener('change', function () { self.answer(node, select.value); });
        wrap.appendChild(select);
        return;
      }
      choices.forEach(function (c, i) {
        var label = el('label', 'rf-choice');
        var input = el('input');
        input.type = multiple ? 'checkbox' : 'radio';
        input.name = group;
        input.value = c.name;
        if (i === 0) { input.id = key; }
        input.setAttribute('data-rf-key', key + '-' + i);
        input.addEventListener('change', function () {
          if (multiple) {
            self.answer(node, inputs.filter(function (x) { return x.checked; }).map(function (x) { return x.value; }).join(' '));
          } else if (input.checked) self.answer(node, input.value);
        });
        inputs.push(input);
        label.appendChild(input);
        label.appendChild(el('span', null, textIn(c.label, self.language) || c.name));
        wrap.appendChild(label);
      });
      if (!multiple && choices.length) {
        // A radio answer can be taken back.
        var none = el('button', 'rf-clear', '×');
        none.type = 'button';
        none.setAttribute('aria-label', t('choose'));
        none.addEventListener('click', function () { self.answer(node, ''); });
        wrap.appendChild(none);
      }
    }
    return {
      el: wrap,
      update: function (readonly) {
        var choices = self.state.choicesFor(node);
        var names = choices.map(function (c) { return c.name; });
        var k = names.join('\u0000') + '\u0001' + self.language;
        if (k !== shownKey) { draw(choices); shownKey = k; }
        // Answers no longer offered (a choice_filter changed) are dropped.
        var chosen = multiple ? words(node.value) : (node.value === '' ? [] : [trim(node.value)]);
        var kept = chosen.filter(function (c) { return names.indexOf(c) >= 0 || (f.or_other && c === 'other'); });
        if (kept.length !== chosen.length && f.choice_filter !== undefined) {
          node.value = kept.join(' ');
          setTimeout(function () { self.changed(false); }, 0);
        }
        if (select) { select.value = kept[0] || ''; select.disabled = readonly; }
        inputs.forEach(function (input) { input.checked = kept.indexOf(input.value) >= 0; input.disabled = readonly; });
      }
    };
  };

  WebForm.prototype.geopointControl = function (node, key) {
    var self = this, t = this.t;
    var wrap = el('div', 'rf-geopoint');
    var button = el('button', 'rf-locate', t('locate'));
    button.type = 'button';
    var status = el('span', 'rf-locate-status');
    var lat = el('input', 'rf-input');
    var lon = el('input', 'rf-input');
    [lat, lon].forEach(function (input, i) {
      input.type = 'number';
      input.step = 'any';
      input.setAttribute('inputmode', 'decimal');
      input.setAttribute('aria-label', i === 0 ? t('latitude') : t('longitude'));
      input.placeholder = i === 0 ? t('latitude') : t('longitude');
      input.setAttribute('data-rf-key', key + (i === 0 ? '' : '-lon'));
    });
    lat.id = key;
    var accuracy = el('span', 'rf-accuracy');
    function fromInputs() {
      if (lat.value === '' && lon.value === '') return '';
      var parts = words(node.value);
      return lat.value + ' ' + lon.value + ' ' + (parts[2] || '0') + ' ' + (parts[3] || '0');
    }
    [lat, lon].forEach(function (input) {
      input.addEventListener('input', function () { self.answer(node, fromInputs()); });
    });
    button.addEventListener('click', function () {
      if (!global.navigator || !global.navigator.geolocation) { status.textContent = t('no_location') + '—'; return; }
      status.textContent = t('locating');
      global.navigator.geolocation.getCurrentPosition(function (position) {
        var c = position.coords;
        status.textContent = '';
        self.answer(node, c.latitude + ' ' + c.longitude + ' ' + (c.altitude || 0) + ' ' + (c.accuracy || 0));
      }, function (error) {
        status.textContent = t('no_location') + (error && error.message || '');
      }, { enableHighAccuracy: true, timeout: 60000, maximumAge: 0 });
    });
    wrap.appendChild(button);
    wrap.appendChild(status);
    var coords = el('div', 'rf-coords');
    coords.appendChild(lat);
    coords.appendChild(lon);
    coords.appendChild(accuracy);
    wrap.appendChild(coords);
    return { el: wrap, update: function (readonly) {
      var parts = words(node.value);
      if (document.activeElement !== lat && document.activeElement !== lon) {
        lat.value = parts[0] || '';
        lon.value = parts[1] || '';
      }
      accuracy.textContent = parts[3] && parts[3] !== '0' ? t('accuracy') + ': ' + parts[3] : '';
      lat.readOnly = lon.readOnly = readonly;
      button.disabled = readonly;
    } };
  };

  WebForm.prototype.say = function (text, kind) {
    this.message.textContent = text;
    this.message.className = 'rf-message ' + (kind || '');
    this.message.hidden = !text;
  };

  WebForm.prototype.submit = function () {
    var self = this, t = this.t, state = this.state;
    // `end` is when the form was finished.
    walkNodes(state.inst.root, function (n) {
      if (n.place && n.place.type === 'metadata' && n.place.preload === 'end') n.value = preloadValue('end', state.env);
    });
    state.recompute();
    this.showAll = true;
    var problems = 0, first = null;
    this.views.forEach(function (v) {
      if (v.question && v.node.parent && state.problem(v.node, self)) {
        problems += 1;
        if (!first) first = v.el;
      }
    });
    this.refresh();
    if (problems) {
      this.say(t('fix', problems), 'rf-bad');
      if (first) {
        first.scrollIntoView({ block: 'center' });
        var input = first.querySelector('input, select, textarea');
        if (input) input.focus();
      }
      return Promise.resolve(null);
    }
    var instanceId = 'uuid:' + uuidV4();
    var item = {
      instance_id: instanceId,
      form_id: this.def.id,
      version: this.def.version || '',
      submit_url: this.options.submitUrl,
      csrf: this.options.csrfToken || '',
      state: 'pending',
      attempts: 0,
      next_at: 0,
      created: new Date().toISOString(),
      body: { form_id: this.def.id, version: this.def.version || '', instance_id: instanceId, data: state.record(instanceId) }
    };
    var stored = outbox.put(item).then(function () { return true; }, function () { return false; });
    return stored.then(function (ok) {
      self.reset();
      self.say(ok ? t('saved') : t('no_storage'), 'rf-good');
      self.container.scrollIntoView({ block: 'start' });
      if (typeof self.options.onSaved === 'function') self.options.onSaved(instanceId);
      if (ok) return self.sync.run({ now: true }).then(function () { return instanceId; });
      // Without IndexedDB the submission is sent once, now; a failure is shown.
      return self.sync.send(item).then(function () { return instanceId; }, function (error) {
        self.say(t('no_storage') + ' ' + String(error && error.message || error), 'rf-bad');
        return null;
      });
    });
  };

  /* Renders `definition` into `container`. options: { language, uiLanguage,
   * submitUrl, csrfToken, onSaved(instanceId) }. The definition's compiled
   * expressions must be (or become) registered. Returns a promise of the form. */
  function render(container, definition, options) {
    if (definition.format !== 1) return Promise.reject(new Error('unknown definition format ' + definition.format));
    return expressionsFor(definition.expressions).then(function (functions) {
      return new WebForm(container, definition, functions, options || {});
    });
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement('script');
      s.src = src;
      s.async = false;
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(new Error(src)); };
      document.head.appendChild(s);
    });
  }

  function withTimeout(promise, ms, message) {
    return Promise.race([promise, new Promise(function (resolve, reject) { setTimeout(function () { reject(new Error(message)); }, ms); })]);
  }

  /* `<div id="webform" data-definition-url data-expressions-url data-submit-url data-csrf
   *       [data-language] [data-ui-language] [data-sw-url]>` starts by itself. */
  function autostart() {
    var div = document.getElementById('webform') || document.querySelector('[data-rumbo-webform]');
    if (!div || div.getAttribute('data-started')) return;
    div.setAttribute('data-started', '1');
    var d = div.dataset;
    var t = uiStrings(d.uiLanguage);
    var loading = el('p', 'rf-loading', t('loading'));
    clear(div);
    div.appendChild(loading);
    var definitionUrl = d.definitionUrl;
    var expressionsUrl = d.expressionsUrl || (definitionUrl || '').replace(/definition\.json(\?.*)?$/, 'expressions.js');
    var swUrl = d.swUrl || '/collect/sw.js';
    if ('serviceWorker' in navigator && swUrl !== 'none') {
      navigator.serviceWorker.register(swUrl, { scope: '/collect/' }).then(function () {
        return navigator.serviceWorker.ready;
      }).then(function (registration) {
        var urls = [global.location.pathname + global.location.search, definitionUrl, expressionsUrl];
        if (registration.active) registration.active.postMessage({ type: 'rumbo-cache', urls: urls });
      })['catch'](function () { /* Offline support is a bonus, not a requirement. */ });
    }
    fetch(definitionUrl, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (response) {
      if (!response.ok) throw new Error(response.status + ' ' + response.statusText);
      return response.json();
    }).then(function (definition) {
      var ready = registered[definition.expressions] ? Promise.resolve() : loadScript(expressionsUrl);
      return ready.then(function () {
        return withTimeout(render(div, definition, {
          language: d.language,
          uiLanguage: d.uiLanguage,
          submitUrl: d.submitUrl,
          csrfToken: d.csrf
        }), 15000, 'the expressions of this form version did not load; reload the page');
      });
    })['catch'](function (error) {
      clear(div);
      div.appendChild(el('p', 'rf-message rf-bad', t('load_failed') + (error && error.message || error)));
    });
  }

  RumboForms.render = render;
  RumboForms.outbox = outbox;
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autostart);
  else autostart();
})(typeof globalThis !== 'undefined' ? globalThis : (typeof window !== 'undefined' ? window : this));
