// The page model: the objects of a clean duck.ai page that challenge scripts touch.
//
// Evaluated once per solve in a fresh V8 isolate, as a function expression called with the
// page description, the parsed innerHTML fragments known so far, and a nonce. V8's global
// object becomes the #jsa iframe's window (the script runs there); `top` is a model of the
// duck.ai page. Nothing here reaches the host: innerHTML snippets that are not yet parsed are
// recorded, and the solver re-runs the script with them parsed (see _v8.py).
(function (PAGE, FRAGMENTS, NONCE) {
  "use strict";
  const G = globalThis;
  const missing = [];
  const internals = new WeakMap();
  const nativeFns = new WeakSet();
  const state = { done: false, ok: undefined, error: undefined };
  const def = (obj, name, value, enumerable) =>
    Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: !!enumerable });
  const getter = (obj, name, get, set) =>
    Object.defineProperty(obj, name, { get, set, configurable: true, enumerable: true });
  const native = (fn) => { nativeFns.add(fn); return fn; };
  const methods = (proto, table) => {
    for (const name of Object.keys(table)) {
      const fn = table[name];
      Object.defineProperty(fn, "name", { value: name });
      def(proto, name, native(fn), true);
    }
  };
  const tag = (proto, name) =>
    Object.defineProperty(proto, Symbol.toStringTag, { value: name, configurable: true });

  // Functions of the model print like built-ins.
  const fnToString = Function.prototype.toString;
  const patchedToString = function toString() {
    if (nativeFns.has(this)) return "function " + this.name + "() { [native code] }";
    return fnToString.call(this);
  };
  nativeFns.add(patchedToString);
  def(Function.prototype, "toString", patchedToString);

  const domError = (name, message) => {
    const e = new Error(message);
    e.name = name;
    return e;
  };

  // --- nodes ----------------------------------------------------------------------------
  const VOID = new Set(["area", "base", "br", "col", "embed", "hr", "img", "input", "link",
    "meta", "source", "track", "wbr"]);
  const RAW = new Set(["style", "script", "xmp", "iframe", "noembed", "noframes", "plaintext",
    "noscript"]);
  const escText = (s) => s.replace(/&/g, "&amp;").replace(/\u00a0/g, "&nbsp;")
    .replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const escAttr = (s) => s.replace(/&/g, "&amp;").replace(/\u00a0/g, "&nbsp;")
    .replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  // Element classes whose fragment-parsing context equals a div's (flow content).
  const DIV_LIKE = new Set(["div", "span", "p", "section", "article", "main", "aside", "header",
    "footer", "nav", "b", "i", "em", "strong", "li", "ul", "ol", "pre", "body", "a", "label",
    "code", "small", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"]);
  const INTERFACE = { div: "HTMLDivElement", span: "HTMLSpanElement", p: "HTMLParagraphElement",
    iframe: "HTMLIFrameElement", meta: "HTMLMetaElement", body: "HTMLBodyElement",
    head: "HTMLHeadElement", html: "HTMLHtmlElement", script: "HTMLScriptElement",
    a: "HTMLAnchorElement", style: "HTMLStyleElement", canvas: "HTMLCanvasElement" };
  const DISPLAY = { span: "inline", a: "inline", b: "inline", i: "inline", em: "inline",
    strong: "inline", code: "inline", small: "inline", label: "inline", script: "none",
    style: "none", meta: "none", head: "none", template: "none", iframe: "inline", li: "list-item" };

  function Node() { throw new TypeError("Illegal constructor"); }
  const NodeProto = Node.prototype;
  tag(NodeProto, "Node");
  function Element() { throw new TypeError("Illegal constructor"); }
  const ElementProto = Object.create(NodeProto);
  Element.prototype = ElementProto;
  tag(ElementProto, "HTMLElement");
  const protoCache = new Map();
  const protoFor = (name) => {
    const iface = INTERFACE[name] || (name.includes("-") ? "HTMLElement" : "HTMLUnknownElement");
    if (!protoCache.has(iface)) {
      const p = Object.create(ElementProto);
      tag(p, iface);
      protoCache.set(iface, p);
    }
    return protoCache.get(iface);
  };

  const makeText = (doc, data) => {
    const t = Object.create(NodeProto);
    internals.set(t, { kind: "text", data: String(data), parent: null, doc });
    return t;
  };
  const makeElement = (doc, name, attrs) => {
    const local = String(name).toLowerCase();
    const e = Object.create(protoFor(local));
    internals.set(e, { kind: "element", local, attrs: new Map(attrs || []), children: [],
      parent: null, doc, frag: null, style: makeStyle(), frame: null });
    return e;
  };
  const k = (node) => {
    const inner = node === null || node === undefined ? undefined : internals.get(node);
    if (!inner) throw new TypeError("Illegal invocation");
    return inner;
  };
  const makeStyle = () => {
    const s = {};
    def(s, "setProperty", native(function setProperty(n, v) { this[String(n).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = String(v); }));
    def(s, "getPropertyValue", native(function getPropertyValue(n) { return this[String(n).replace(/-([a-z])/g, (_, c) => c.toUpperCase())] || ""; }));
    getter(s, "cssText", function () {
      return Object.keys(this).map((n) => n.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()) + ": " + this[n] + ";").join(" ");
    }, function (v) {
      for (const n of Object.keys(this)) delete this[n];
      for (const decl of String(v).split(";")) {
        const at = decl.indexOf(":");
        if (at > 0) this[decl.slice(0, at).trim().replace(/-([a-z])/g, (_, c) => c.toUpperCase())] = decl.slice(at + 1).trim();
      }
    });
    tag(s, "CSSStyleDeclaration");
    return s;
  };

  const serialize = (node) => {
    const n = k(node);
    if (n.kind === "text") {
      const p = n.parent && k(n.parent);
      return p && RAW.has(p.local) ? n.data : escText(n.data);
    }
    let out = "<" + n.local;
    for (const [a, v] of n.attrs) out += " " + a + '="' + escAttr(v) + '"';
    out += ">";
    if (VOID.has(n.local)) return out;
    return out + innerOf(n) + "</" + n.local + ">";
  };
  const innerOf = (n) => (n.frag ? n.frag.html : "") + n.children.map(serialize).join("");
  // Every element below `node`, in tree order (fragment elements first: they precede any
  // child appended after the innerHTML assignment).
  const descendants = (node, out) => {
    const n = k(node);
    if (n.frag) for (const e of n.frag.nodes) out.push(e);
    for (const c of n.children) {
      if (k(c).kind === "element") { out.push(c); descendants(c, out); }
    }
    return out;
  };
  const connectedDoc = (node) => {
    let n = k(node);
    while (n.parent) n = k(n.parent);
    return n.isRoot ? n.doc : null;
  };
  const detach = (child) => {
    const c = k(child);
    if (c.parent) {
      const p = k(c.parent);
      p.children.splice(p.children.indexOf(child), 1);
      c.parent = null;
      if (c.frame) c.frame.detach();
    }
  };
  const insert = (parent, child) => {
    if (!child || !internals.has(child)) {
      throw new TypeError("Failed to execute 'appendChild' on 'Node': parameter 1 is not of type 'Node'.");
    }
    detach(child);
    k(parent).children.push(child);
    k(child).parent = parent;
    if (k(child).local === "iframe" && connectedDoc(parent)) attachFrame(child);
    return child;
  };

  // --- selectors (the subset challenges use) --------------------------------------------
  const IDENT = "-?[_a-zA-Z\\u00a0-\\uffff][-_a-zA-Z0-9\\u00a0-\\uffff]*";
  const compoundRe = new RegExp("^(\\*|" + IDENT + ")?((?:#" + IDENT + "|\\." + IDENT +
    "|\\[\\s*" + IDENT + "\\s*(?:[~|^$*]?=\\s*(?:\"[^\"]*\"|'[^']*'|" + IDENT + ")\\s*)?\\])*)$");
  const partRe = new RegExp("#(" + IDENT + ")|\\.(" + IDENT + ")|\\[\\s*(" + IDENT +
    ")\\s*(?:([~|^$*]?=)\\s*(?:\"([^\"]*)\"|'([^']*)'|(" + IDENT + "))\\s*)?\\]", "g");
  const parseSelector = (text) => {
    const groups = String(text).split(",").map((g) => g.trim());
    return groups.map((g) => {
      if (!g) throw domError("SyntaxError", "'" + text + "' is not a valid selector.");
      return g.split(/\s+/).map((c) => {
        const m = compoundRe.exec(c);
        if (!m) throw domError("SyntaxError", "'" + text + "' is not a valid selector.");
        const tests = [];
        if (m[1] && m[1] !== "*") tests.push((n) => n.local === m[1].toLowerCase());
        for (const p of (m[2] || "").matchAll(partRe)) {
          if (p[1] !== undefined) tests.push((n) => n.attrs.get("id") === p[1]);
          else if (p[2] !== undefined) tests.push((n) => (n.attrs.get("class") || "").split(/\s+/).includes(p[2]));
          else {
            const name = p[3].toLowerCase();
            const op = p[4];
            const want = p[5] !== undefined ? p[5] : p[6] !== undefined ? p[6] : p[7];
            tests.push((n) => {
              if (!n.attrs.has(name)) return false;
              const v = n.attrs.get(name);
              if (!op) return true;
              if (op === "=") return v === want;
              if (op === "~=") return v.split(/\s+/).includes(want);
              if (op === "^=") return want !== "" && v.startsWith(want);
              if (op === "$=") return want !== "" && v.endsWith(want);
              if (op === "*=") return want !== "" && v.includes(want);
              return v === want || v.startsWith(want + "-");
            });
          }
        }
        return tests;
      });
    });
  };
  const ancestorsOf = (node) => {
    const out = [];
    let p = k(node).parent;
    while (p) { out.push(p); p = k(p).parent; }
    return out;
  };
  const matches = (node, chain, scope) => {
    const ok = (el, tests) => tests.every((t) => t(k(el)));
    if (!ok(node, chain[chain.length - 1])) return false;
    let i = chain.length - 2;
    const ancestors = k(node).fragHost ? [k(node).fragHost, ...ancestorsOf(k(node).fragHost)] : ancestorsOf(node);
    for (const a of ancestors) {
      if (i < 0) break;
      if (ok(a, chain[i])) i--;
    }
    return i < 0;
  };
  const select = (root, text, first) => {
    const groups = parseSelector(text);
    const out = [];
    for (const el of descendants(root, [])) {
      if (groups.some((chain) => matches(el, chain, root))) {
        out.push(el);
        if (first) break;
      }
    }
    return out;
  };
  function NodeList() { throw new TypeError("Illegal constructor"); }
  tag(NodeList.prototype, "NodeList");
  const nodeList = (items) => {
    const list = Object.create(NodeList.prototype);
    items.forEach((v, i) => Object.defineProperty(list, i, { value: v, enumerable: true }));
    def(list, "length", items.length);
    return list;
  };
  methods(NodeList.prototype, {
    item(i) { return this[i] || null; },
    forEach(fn, thisArg) { for (let i = 0; i < this.length; i++) fn.call(thisArg, this[i], i, this); },
  });
  def(NodeList.prototype, Symbol.iterator, Array.prototype.values);

  const queryMethods = {
    querySelector(s) { return select(this, s, true)[0] || null; },
    querySelectorAll(s) { return nodeList(select(this, s, false)); },
    getElementsByTagName(t) { return nodeList(select(this, t === "*" ? "*" : String(t), false)); },
  };

  // --- Element ----------------------------------------------------------------------------
  methods(NodeProto, {
    appendChild(child) { return insert(this, child); },
    removeChild(child) {
      if (!child || k(child).parent !== this) throw domError("NotFoundError", "The node to be removed is not a child of this node.");
      detach(child);
      return child;
    },
    contains(other) { return other === this || (!!other && ancestorsOf(other).includes(this)); },
    hasChildNodes() { const n = k(this); return !!(n.children && n.children.length) || !!(n.frag && n.frag.html); },
  });
  getter(NodeProto, "parentNode", function () { return k(this).parent; });
  getter(NodeProto, "parentElement", function () { const p = k(this).parent; return p && k(p).kind === "element" ? p : null; });
  getter(NodeProto, "isConnected", function () { return !!connectedDoc(this); });
  getter(NodeProto, "ownerDocument", function () { return k(this).doc; });
  getter(NodeProto, "nodeType", function () { return k(this).kind === "text" ? 3 : 1; });
  getter(NodeProto, "textContent", function () {
    const n = k(this);
    if (n.kind === "text") return n.data;
    if (n.frag) throw domError("NotSupportedError", "textContent of parsed markup is not modelled");
    return n.children.map((c) => c.textContent).join("");
  }, function (v) {
    const n = k(this);
    if (n.kind === "text") { n.data = String(v); return; }
    for (const c of n.children.slice()) detach(c);
    n.frag = null;
    if (v !== null && String(v) !== "") insert(this, makeText(n.doc, v));
  });
  getter(NodeProto, "nodeName", function () { const n = k(this); return n.kind === "text" ? "#text" : n.local.toUpperCase(); });

  methods(ElementProto, Object.assign({
    getAttribute(name) { const v = k(this).attrs.get(String(name).toLowerCase()); return v === undefined ? null : v; },
    setAttribute(name, value) { k(this).attrs.set(String(name).toLowerCase(), String(value)); },
    hasAttribute(name) { return k(this).attrs.has(String(name).toLowerCase()); },
    removeAttribute(name) { k(this).attrs.delete(String(name).toLowerCase()); },
    getAttributeNames() { return Array.from(k(this).attrs.keys()); },
    remove() { detach(this); },
    append(...nodes) { for (const c of nodes) insert(this, typeof c === "string" ? makeText(k(this).doc, c) : c); },
    getBoundingClientRect() {
      const w = this.offsetWidth, h = this.offsetHeight;
      return { x: -10000, y: -10000, left: -10000, top: -10000, width: w, height: h, right: -10000 + w, bottom: -10000 + h };
    },
  }, queryMethods));
  getter(ElementProto, "tagName", function () { return k(this).local.toUpperCase(); });
  getter(ElementProto, "localName", function () { return k(this).local; });
  getter(ElementProto, "style", function () { return k(this).style; });
  for (const name of ["id", "className", "title", "lang", "name"]) {
    const attr = name === "className" ? "class" : name;
    getter(ElementProto, name, function () { return this.getAttribute(attr) || ""; },
      function (v) { this.setAttribute(attr, v); });
  }
  getter(ElementProto, "children", function () { return nodeList(k(this).children.filter((c) => k(c).kind === "element")); });
  getter(ElementProto, "childElementCount", function () { return k(this).children.filter((c) => k(c).kind === "element").length; });
  getter(ElementProto, "innerHTML", function () {
    const n = k(this);
    if (n.fragHost) throw domError("NotSupportedError", "innerHTML inside parsed markup is not modelled");
    return innerOf(n);
  }, function (v) {
    const n = k(this);
    const text = v === null ? "" : String(v);
    if (!DIV_LIKE.has(n.local)) throw domError("NotSupportedError", "innerHTML on <" + n.local + "> is not modelled");
    for (const c of n.children.slice()) detach(c);
    n.frag = null;
    if (text === "") return;
    if (!Object.prototype.hasOwnProperty.call(FRAGMENTS, text)) {
      missing.push(text);
      throw domError("SansioNeedsParse", "innerHTML snippet not parsed yet");
    }
    const f = FRAGMENTS[text];
    const host = this;
    n.frag = {
      html: f.html,
      nodes: f.elements.map(([local, attrs]) => {
        const e = makeElement(n.doc, local, attrs);
        k(e).fragHost = host;
        return e;
      }),
    };
  });
  getter(ElementProto, "outerHTML", function () { return serialize(this); });
  // Layout: the #jsa frame is rendered (off-screen), so connected, displayed elements with
  // content have a box. Only "is there a box" is modelled, not its size in pixels.
  const box = (el) => {
    const n = k(el);
    if (!connectedDoc(el) || n.style.display === "none" || (DISPLAY[n.local] === "none")) return 0;
    const hasContent = n.children.length > 0 || (n.frag && n.frag.html !== "") ||
      /\d/.test(n.style.padding || "") || /\d/.test(n.style.width || "");
    return hasContent ? 1 : 0;
  };
  getter(ElementProto, "offsetWidth", function () { return box(this) * 24; });
  getter(ElementProto, "offsetHeight", function () { return box(this) * 34; });
  getter(ElementProto, "clientWidth", function () { return box(this) * 24; });
  getter(ElementProto, "clientHeight", function () { return box(this) * 34; });
  getter(ElementProto, "scrollWidth", function () { return box(this) * 24; });
  getter(ElementProto, "scrollHeight", function () { return box(this) * 34; });

  // iframe elements
  function DOMTokenList() { throw new TypeError("Illegal constructor"); }
  const TokenProto = DOMTokenList.prototype;
  tag(TokenProto, "DOMTokenList");
  const tokenList = (el, attr) => {
    const list = Object.create(TokenProto);
    internals.set(list, { el, attr });
    return list;
  };
  const tokens = (list) => (k(list).el.getAttribute(k(list).attr) || "").split(/[\t\n\f\r ]+/).filter(Boolean);
  getter(TokenProto, "value", function () { return k(this).el.getAttribute(k(this).attr) || ""; },
    function (v) { k(this).el.setAttribute(k(this).attr, v); });
  getter(TokenProto, "length", function () { return tokens(this).length; });
  methods(TokenProto, {
    toString() { return this.value; },
    contains(t) { return tokens(this).includes(String(t)); },
    item(i) { return tokens(this)[i] === undefined ? null : tokens(this)[i]; },
    add(...ts) { const cur = tokens(this); for (const t of ts) if (!cur.includes(t)) cur.push(String(t)); this.value = cur.join(" "); },
    remove(...ts) { this.value = tokens(this).filter((t) => !ts.includes(t)).join(" "); },
    supports(t) { return ["allow-scripts", "allow-same-origin", "allow-forms", "allow-popups", "allow-modals"].includes(String(t)); },
  });
  def(TokenProto, Symbol.iterator, native(function values() { return tokens(this)[Symbol.iterator](); }));
  const iframeProto = protoFor("iframe");
  getter(iframeProto, "sandbox", function () { return tokenList(this, "sandbox"); },
    function (v) { this.setAttribute("sandbox", v); });
  getter(ElementProto, "classList", function () { return tokenList(this, "class"); });
  for (const name of ["srcdoc", "src"]) {
    getter(iframeProto, name, function () { return this.getAttribute(name) || ""; },
      function (v) { this.setAttribute(name, v); });
  }
  getter(iframeProto, "contentWindow", function () { const f = k(this).frame; return f ? f.window : null; });
  getter(iframeProto, "contentDocument", function () { const f = k(this).frame; return f ? f.document : null; });
  const metaProto = protoFor("meta");
  getter(metaProto, "content", function () { return this.getAttribute("content") || ""; },
    function (v) { this.setAttribute("content", v); });
  getter(metaProto, "httpEquiv", function () { return this.getAttribute("http-equiv") || ""; },
    function (v) { this.setAttribute("http-equiv", v); });

  // --- documents and windows ----------------------------------------------------------------
  function Document() { throw new TypeError("Illegal constructor"); }
  const DocProto = Object.create(NodeProto);
  Document.prototype = DocProto;
  tag(DocProto, "HTMLDocument");
  methods(DocProto, Object.assign({
    createElement(name) {
      const local = String(name);
      if (!/^[A-Za-z][^\s/>\0]*$/.test(local)) throw domError("InvalidCharacterError", "The tag name provided ('" + local + "') is not a valid name.");
      return makeElement(this, local.toLowerCase());
    },
    createTextNode(data) { return makeText(this, data); },
    getElementById(id) { return select(this, "*", false).find((e) => e.getAttribute("id") === String(id)) || null; },
    hasFocus() { return false; },
  }, queryMethods));
  getter(DocProto, "documentElement", function () { return k(this).children[0] || null; });
  getter(DocProto, "head", function () { const h = k(this).children[0]; return h ? k(h).children.find((c) => k(c).local === "head") || null : null; });
  getter(DocProto, "body", function () { const h = k(this).children[0]; return h ? k(h).children.find((c) => k(c).local === "body") || null : null; });
  getter(DocProto, "readyState", function () { return "complete"; });
  getter(DocProto, "compatMode", function () { return "CSS1Compat"; });
  getter(DocProto, "characterSet", function () { return "UTF-8"; });
  getter(DocProto, "visibilityState", function () { return "visible"; });
  getter(DocProto, "hidden", function () { return false; });
  getter(DocProto, "defaultView", function () { return k(this).view; });
  getter(DocProto, "cookie", function () { return ""; }, function () {});

  const makeDocument = (headNodes, bodyNodes, url, view) => {
    const doc = Object.create(DocProto);
    internals.set(doc, { kind: "document", children: [], parent: null, isRoot: true, url, view, frag: null, attrs: new Map(), local: "#document" });
    k(doc).doc = doc;
    const html = makeElement(doc, "html");
    insert(doc, html);
    const head = makeElement(doc, "head");
    const body = makeElement(doc, "body");
    insert(html, head);
    insert(html, body);
    for (const n of headNodes(doc)) insert(head, n);
    for (const n of bodyNodes(doc)) insert(body, n);
    getter(doc, "location", function () { return view ? view.location : null; });
    getter(doc, "URL", function () { return url; });
    return doc;
  };

  function Window() { throw new TypeError("Illegal constructor"); }
  const WindowProto = Object.create(Object.getPrototypeOf(G));
  Window.prototype = WindowProto;
  tag(WindowProto, "Window");
  def(WindowProto, "constructor", Window);
  const makeLocation = (href, origin) => {
    const loc = {};
    tag(loc, "Location");
    const u = origin === "null" ? null : origin.match(/^([a-z]+:)\/\/([^/:]+)(?::(\d+))?/);
    Object.assign(loc, { href, origin, protocol: href.slice(0, href.indexOf(":") + 1),
      host: u ? u[2] + (u[3] ? ":" + u[3] : "") : "", hostname: u ? u[2] : "", port: u && u[3] ? u[3] : "",
      pathname: href.startsWith("about:") ? href.slice(6) : "/", search: "", hash: "" });
    def(loc, "toString", native(function toString() { return href; }));
    return loc;
  };

  // The duck.ai page (top).
  const topWin = Object.create(WindowProto);
  const frameWin = G;
  const topLoc = makeLocation(PAGE.origin + "/", PAGE.origin);
  let jsa = null;
  // Child frames created by the script: a window-like object per attached iframe.
  const attachFrame = (el) => {
    const win = Object.create(WindowProto);
    const doc = makeDocument(() => [], () => [], "about:blank", win);
    for (const [name, value] of [["window", win], ["self", win], ["frames", win], ["document", doc],
      ["top", topWin], ["parent", frameWin], ["location", makeLocation("about:blank", PAGE.origin)],
      ["name", ""], ["length", 0], ["closed", false]]) {
      Object.defineProperty(win, name, { value, writable: true, enumerable: true, configurable: true });
    }
    k(el).frame = { window: win, document: doc, detach() { k(el).frame = null; } };
  };

  const topDoc = makeDocument(() => [], (doc) => {
    jsa = makeElement(doc, "iframe", [["id", "jsa"], ["sandbox", PAGE.jsa_sandbox]]);
    k(jsa).style.position = "absolute";
    k(jsa).style.left = "-10000px";
    k(jsa).style.top = "-10000px";
    return [jsa];
  }, PAGE.origin + "/", topWin);
  for (const [name, value] of [["window", topWin], ["self", topWin], ["document", topDoc],
    ["location", topLoc], ["top", topWin], ["parent", topWin], ["frames", topWin],
    ["navigator", null], ["origin", PAGE.origin], ["name", ""], ["length", 1], ["0", frameWin],
    ["__DDG_BE_VERSION__", PAGE.be_version], ["__DDG_FE_CHAT_HASH__", PAGE.fe_chat_hash]]) {
    Object.defineProperty(topWin, name, { value, writable: true, enumerable: true, configurable: true });
  }

  // The #jsa frame: V8's global object.
  const frameDoc = makeDocument((doc) => {
    const meta = makeElement(doc, "meta", [["http-equiv", "Content-Security-Policy"], ["content", PAGE.jsa_csp]]);
    return [meta];
  }, () => [], "about:srcdoc", frameWin);
  k(jsa).frame = { window: frameWin, document: frameDoc, detach() {} };

  // navigator
  function Navigator() { throw new TypeError("Illegal constructor"); }
  const NavProto = Navigator.prototype;
  tag(NavProto, "Navigator");
  const nav = Object.create(NavProto);
  const ua = PAGE.user_agent;
  const platform = /Windows/.test(ua) ? "Win32" : /Macintosh|Mac OS X/.test(ua) ? "MacIntel"
    : /Android/.test(ua) ? "Linux armv81" : /CrOS/.test(ua) ? "Linux x86_64" : /Linux/.test(ua) ? "Linux x86_64" : "";
  const languages = Object.freeze(PAGE.languages.slice());
  function NavigatorUAData() { throw new TypeError("Illegal constructor"); }
  const UADProto = NavigatorUAData.prototype;
  tag(UADProto, "NavigatorUAData");
  const uad = Object.create(UADProto);
  const brands = () => PAGE.brands.map(([brand, version]) => ({ brand, version }));
  const frozenBrands = Object.freeze(brands().map(Object.freeze));
  getter(UADProto, "brands", () => frozenBrands);
  getter(UADProto, "mobile", () => PAGE.mobile);
  getter(UADProto, "platform", () => PAGE.platform);
  methods(UADProto, {
    toJSON() { return { brands: brands(), mobile: PAGE.mobile, platform: PAGE.platform }; },
    getHighEntropyValues(hints) {
      const out = { brands: brands(), mobile: PAGE.mobile, platform: PAGE.platform };
      for (const h of Array.from(hints || [])) {
        if (h === "fullVersionList") out.fullVersionList = brands();
        else if (h === "platformVersion") out.platformVersion = "";
        else if (h === "architecture") out.architecture = "";
        else if (h === "bitness") out.bitness = "";
        else if (h === "model") out.model = "";
        else if (h === "uaFullVersion") out.uaFullVersion = "";
        else if (h === "wow64") out.wow64 = false;
        else if (h === "formFactors") out.formFactors = [];
      }
      return Promise.resolve(out);
    },
  });
  const navValues = {
    userAgent: ua, appVersion: ua.replace(/^Mozilla\//, ""), appName: "Netscape",
    appCodeName: "Mozilla", product: "Gecko", productSub: "20030107", vendor: "Google Inc.",
    vendorSub: "", platform, language: languages[0] || "", languages, webdriver: false,
    cookieEnabled: true, onLine: true, doNotTrack: null, maxTouchPoints: PAGE.mobile ? 5 : 0,
    pdfViewerEnabled: !PAGE.mobile, userAgentData: uad,
  };
  for (const name of Object.keys(navValues)) getter(NavProto, name, () => navValues[name]);
  methods(NavProto, { javaEnabled() { return false; } });
  topWin.navigator = nav;

  // base64 and text encoding (V8 alone has neither)
  const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const btoa = native(function btoa(data) {
    const s = String(data);
    let out = "";
    for (let i = 0; i < s.length; i += 3) {
      const a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255) throw domError("InvalidCharacterError", "Failed to execute 'btoa' on 'Window': The string to be encoded contains characters outside of the Latin1 range.");
      const n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[n >> 18] + B64[(n >> 12) & 63] + (i + 1 < s.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < s.length ? B64[n & 63] : "=");
    }
    return out;
  });
  const atob = native(function atob(data) {
    let s = String(data).replace(/[\t\n\f\r ]/g, "");
    if (s.length % 4 === 0) s = s.replace(/==?$/, "");
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw domError("InvalidCharacterError", "Failed to execute 'atob' on 'Window': The string to be decoded is not correctly encoded.");
    let out = "", bits = 0, acc = 0;
    for (const ch of s) {
      acc = (acc << 6) | B64.indexOf(ch);
      bits += 6;
      if (bits >= 8) { bits -= 8; out += String.fromCharCode((acc >> bits) & 255); }
    }
    return out;
  });
  function TextEncoder() { if (!new.target) throw new TypeError("Failed to construct 'TextEncoder': Please use the 'new' operator"); }
  methods(TextEncoder.prototype, {
    encode(input) {
      const bytes = [];
      const s = input === undefined ? "" : String(input);
      for (let i = 0; i < s.length; i++) {
        let c = s.codePointAt(i);
        if (c > 0xffff) i++;
        else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
        if (c < 0x80) bytes.push(c);
        else if (c < 0x800) bytes.push(0xc0 | (c >> 6), 0x80 | (c & 63));
        else if (c < 0x10000) bytes.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
        else bytes.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
      return new Uint8Array(bytes);
    },
  });
  getter(TextEncoder.prototype, "encoding", () => "utf-8");
  native(TextEncoder);

  const t0 = Date.now();
  const performance = {};
  tag(performance, "Performance");
  def(performance, "now", native(function now() { return Date.now() - t0; }));
  def(performance, "timeOrigin", t0);
  const getComputedStyle = native(function getComputedStyle(el) {
    const n = k(el);
    const s = makeStyle();
    s.display = n.style.display || (connectedDoc(el) ? DISPLAY[n.local] || "block" : "");
    s.visibility = n.style.visibility || (connectedDoc(el) ? "visible" : "");
    s.position = n.style.position || (connectedDoc(el) ? "static" : "");
    return s;
  });

  // Install the frame's globals.
  Object.setPrototypeOf(G, WindowProto);
  // mini-racer declares setTimeout/clearTimeout (and its __timer_manager) as globals that
  // cannot be redefined; they are kept, marked as built-ins.
  native(G.setTimeout);
  native(G.clearTimeout);
  const globals = {
    window: G, self: G, frames: G, top: topWin, parent: topWin, document: frameDoc, navigator: nav,
    location: makeLocation("about:srcdoc", PAGE.origin), origin: PAGE.origin, name: "", length: 0,
    frameElement: jsa, closed: false, isSecureContext: PAGE.origin.startsWith("https:") || /^http:\/\/(127\.0\.0\.1|localhost)(:|$)/.test(PAGE.origin),
    atob, btoa, TextEncoder, performance, getComputedStyle,
    Node, Element, HTMLElement: Element, Document, HTMLDocument: Document, Window, Navigator,
    NavigatorUAData, DOMTokenList, NodeList,
  };
  for (const name of Object.keys(globals)) {
    Object.defineProperty(G, name, { value: globals[name], writable: true, enumerable: true, configurable: true });
  }
  for (const fn of [Node, Element, Document, Window, Navigator, NavigatorUAData, DOMTokenList, NodeList]) native(fn);

  // The solver's window into the result: one non-enumerable global, named with a nonce.
  Object.defineProperty(G, "__sansio_" + NONCE, {
    value: Object.freeze({
      settle(p) {
        Promise.resolve(p).then(
          (v) => { state.done = true; state.ok = v; },
          (e) => { state.done = true; state.error = e; });
      },
      poll() {
        if (missing.length) return JSON.stringify({ missing: missing.slice(0, 64) });
        if (!state.done) return null;
        if (state.error !== undefined) {
          let msg;
          try { msg = String(state.error && state.error.stack || state.error); } catch (e) { msg = "an unprintable value"; }
          return JSON.stringify({ error: msg.slice(0, 2000) });
        }
        const text = JSON.stringify(state.ok);
        return JSON.stringify({ ok: text === undefined ? null : text });
      },
    }),
  });
});
