/*
 * Chat page script. Plain ES2015, no build step, no external resources.
 * Every piece of text from the user or the server is inserted with textContent or as
 * an attribute set through the DOM: never as HTML.
 */
(function () {
  'use strict';

  var SESSION_KEY = 'tthc.sessionId';
  var CURSOR_KEY = 'tthc.cursor';
  var SESSION_RE = /^[A-Za-z0-9_-]{8,64}$/;
  var URL_RE = /https?:\/\/[^\s<>"']+/g;

  var log = document.getElementById('log');
  var form = document.getElementById('ask');
  var input = document.getElementById('q');
  var strings = document.getElementById('strings');
  var text = {
    offline: strings.getAttribute('data-offline'),
    retry: strings.getAttribute('data-retry'),
    busy: strings.getAttribute('data-busy')
  };

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: keep in memory */ }
  }
  function randomId(bytes) {
    var out = '';
    var a = new Uint8Array(bytes);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(a);
    else for (var i = 0; i < bytes; i++) a[i] = Math.floor(Math.random() * 256);
    for (var j = 0; j < a.length; j++) out += (a[j] < 16 ? '0' : '') + a[j].toString(16);
    return out;
  }

  var sessionId = load(SESSION_KEY);
  if (!sessionId || !SESSION_RE.test(sessionId)) {
    sessionId = randomId(16);
    save(SESSION_KEY, sessionId);
  }
  // The cursor is "<epoch>.<last sequence shown>"; a new epoch (server restart) starts at 0.
  var epoch = '';
  var lastSeq = 0;
  (function () {
    var c = load(CURSOR_KEY);
    var m = c && /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(c);
    if (m) { epoch = m[1]; lastSeq = Number(m[2]); }
  })();
  function cursor() { return epoch ? epoch + '.' + lastSeq : ''; }

  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  /** Text with http(s) addresses turned into links, built from text nodes only. */
  function linkified(str) {
    var p = el('p', 'text');
    var last = 0;
    str.replace(URL_RE, function (match, offset) {
      var url = match.replace(/[.,;:!?)\]]+$/, '');
      p.appendChild(document.createTextNode(str.slice(last, offset)));
      var a = el('a', '', url);
      a.href = url;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      p.appendChild(a);
      last = offset + url.length;
      return match;
    });
    p.appendChild(document.createTextNode(str.slice(last)));
    return p;
  }

  function scrollTo(node, top) {
    if (node.scrollIntoView) node.scrollIntoView({ block: top ? 'start' : 'end' });
  }

  function addUser(str) {
    var div = el('div', 'msg user');
    div.appendChild(el('p', 'text', str));
    log.appendChild(div);
    scrollTo(div, false);
  }

  function addNote(str, retry) {
    var div = el('div', 'msg note');
    div.setAttribute('role', 'status');
    div.appendChild(el('p', 'text', str));
    if (retry) {
      var b = el('button', 'retry', text.retry);
      b.type = 'button';
      b.addEventListener('click', function () {
        if (div.parentNode) div.parentNode.removeChild(div);
        retry();
      });
      div.appendChild(b);
    }
    log.appendChild(div);
    scrollTo(div, false);
  }

  function addTyping() {
    var div = el('div', 'msg bot typing', '…');
    div.setAttribute('aria-hidden', 'true');
    log.appendChild(div);
    return function () { if (div.parentNode) div.parentNode.removeChild(div); };
  }

  function button(cls, label, onTap) {
    var b = el('button', cls, label);
    b.type = 'button';
    b.addEventListener('click', function () {
      if (b.disabled) return;
      b.disabled = true; // no double taps
      setTimeout(function () { if (!b.getAttribute('data-done')) b.disabled = false; }, 1000);
      onTap(b);
    });
    return b;
  }

  function addBot(r, restored) {
    var div = el('div', 'msg bot');
    div.setAttribute('data-seq', String(r.seq));
    div.appendChild(linkified(String(r.text || '')));
    var options = r.options || [];
    var links = r.links || [];
    if (options.length || links.length) {
      var box = el('div', 'opts');
      options.forEach(function (o) {
        box.appendChild(button('opt', o.label, function () { send(o.payload, o.label); }));
      });
      links.forEach(function (l) {
        if (!/^https?:\/\//i.test(l.url)) return;
        var a = el('a', 'link', l.title);
        a.href = l.url;
        a.target = '_blank';
        a.rel = 'noopener noreferrer';
        box.appendChild(a);
      });
      div.appendChild(box);
    }
    // A restored answer is not asked to be rated again.
    if (r.rating && !restored) {
      var rating = el('div', 'rating');
      rating.appendChild(el('p', 'question', r.rating.ask));
      var row = el('div', 'row');
      var buttons = r.rating.options.map(function (o) {
        return button('rate', o.label, function () {
          buttons.forEach(function (b) { b.disabled = true; b.setAttribute('data-done', '1'); });
          send(o.payload, o.label);
        });
      });
      buttons.forEach(function (b) { row.appendChild(b); });
      rating.appendChild(row);
      div.appendChild(rating);
    }
    log.appendChild(div);
    return div;
  }

  /** Shows replies not shown yet; returns the first new message element. */
  function show(body) {
    if (!body || typeof body.cursor !== 'string') return null;
    var m = /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(body.cursor);
    if (m && m[1] !== epoch) { epoch = m[1]; lastSeq = 0; }
    var first = null;
    (body.replies || []).forEach(function (r) {
      if (typeof r.seq !== 'number' || r.seq <= lastSeq) return;
      lastSeq = r.seq;
      var node = addBot(r);
      if (!first) first = node;
    });
    save(CURSOR_KEY, cursor());
    if (first) scrollTo(first, true);
    return first;
  }

  function request(method, url, body, timeoutMs) {
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl ? setTimeout(function () { ctrl.abort(); }, timeoutMs) : null;
    var init = { method: method, headers: { Accept: 'application/json' }, signal: ctrl ? ctrl.signal : undefined, cache: 'no-store' };
    if (body) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (res) {
      if (timer) clearTimeout(timer);
      return res.json().then(function (json) { return { status: res.status, body: json }; }, function () { return { status: res.status, body: null }; });
    }, function (err) {
      if (timer) clearTimeout(timer);
      throw err;
    });
  }

  function send(message, shown) {
    addUser(shown);
    var messageId = randomId(8);
    var attempt = function (n) {
      var stopTyping = addTyping();
      request('POST', '/api/chat', { sessionId: sessionId, text: message, messageId: messageId, cursor: cursor(), shown: shown }, 45000).then(function (res) {
        stopTyping();
        if (res.status === 429) return addNote(text.busy);
        if (res.status !== 200) throw new Error('status ' + res.status);
        show(res.body);
      }).catch(function () {
        stopTyping();
        // The same messageId makes a retry safe: the server answers each message once.
        if (n < 2) return setTimeout(function () { attempt(n + 1); }, 1500 * (n + 1));
        addNote(text.offline, function () { attempt(0); });
      });
    };
    attempt(0);
  }

  /**
   * After a reload: draws what the page showed before (the server keeps it for this
   * session), then polls from the cursor the history gives. Without a history (new
   * session, server restart, forgotten) the page starts as it is.
   */
  function restore() {
    return request('GET', '/api/history?sessionId=' + encodeURIComponent(sessionId), null, 15000).then(function (res) {
      if (res.status !== 200 || !res.body || !res.body.items) return;
      var last = null;
      res.body.items.forEach(function (it) {
        if (it.from === 'citizen' && typeof it.text === 'string') {
          var div = el('div', 'msg user');
          div.appendChild(el('p', 'text', it.text));
          log.appendChild(div);
          last = div;
        } else if (it.from === 'bot' && it.reply) {
          last = addBot(it.reply, true);
        }
      });
      var m = typeof res.body.cursor === 'string' && /^([A-Za-z0-9_-]+)\.(\d+)$/.exec(res.body.cursor);
      if (m) { epoch = m[1]; lastSeq = Number(m[2]); save(CURSOR_KEY, cursor()); }
      if (last) scrollTo(last, false);
    }, function () { /* offline: start with an empty page, polling catches up */ });
  }

  // Long poll for replies that come later (a staff member answering).
  var polling = false;
  var pollFailures = 0;
  function poll() {
    if (document.hidden) { polling = false; return; }
    polling = true;
    request('GET', '/api/updates?sessionId=' + encodeURIComponent(sessionId) + '&cursor=' + encodeURIComponent(cursor()), null, 40000).then(function (res) {
      if (res.status !== 200) throw new Error('status ' + res.status);
      pollFailures = 0;
      show(res.body);
      setTimeout(poll, 200);
    }).catch(function () {
      pollFailures = Math.min(pollFailures + 1, 6);
      setTimeout(poll, 1000 * Math.pow(2, pollFailures));
    });
  }
  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && !polling) poll();
  });

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var q = input.value.replace(/^\s+|\s+$/g, '');
    if (!q) return;
    input.value = '';
    input.style.height = '';
    send(q, q);
  });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (form.requestSubmit) form.requestSubmit();
      else form.dispatchEvent(new Event('submit', { cancelable: true }));
    }
  });
  input.addEventListener('input', function () {
    input.style.height = '';
    input.style.height = Math.min(input.scrollHeight, 160) + 'px';
  });

  restore().then(function () {
    document.documentElement.setAttribute('data-ready', '1');
    poll();
  });
})();
