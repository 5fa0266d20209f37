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
  /*@UI@*/
})(typeof globalThis !== 'undefined' ? globalThis : (typeof window !== 'undefined' ? window : this));
