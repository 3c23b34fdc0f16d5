/*
 * Staff console script. Plain ES2015, no build step, no external resources; every page
 * works without it. What it adds:
 * - the inbox updates live: a Server-Sent Events stream says that a ticket changed
 *   (any process, any channel), and the page re-reads itself and swaps in the list and
 *   the open conversation (markup made by our own server; nothing typed is inserted
 *   as HTML); it also re-reads once a minute so waiting times stay current;
 * - a canned reply picked from the list goes into the reply box, to be edited;
 * - a form cannot be sent twice by a double click.
 * Requests the script makes by itself carry `X-Console-Auto: 1`, so they do not keep an
 * idle session alive.
 */
(function () {
  'use strict';

  var page = document.body.getAttribute('data-page');

  // A double click sends a form once (the button's own value is still sent: disabled after the event).
  document.addEventListener('submit', function (e) {
    var form = e.target;
    setTimeout(function () {
      var buttons = form.querySelectorAll('button[type="submit"]');
      for (var i = 0; i < buttons.length; i++) buttons[i].disabled = true;
    }, 0);
  });
  // Coming back to a page from the browser history: its buttons work again.
  window.addEventListener('pageshow', function () {
    var buttons = document.querySelectorAll('button[type="submit"]');
    for (var i = 0; i < buttons.length; i++) buttons[i].disabled = false;
  });

  // Canned replies go into the reply box.
  document.addEventListener('change', function (e) {
    var select = e.target;
    if (!select.matches || !select.matches('select[data-canned]')) return;
    var option = select.options[select.selectedIndex];
    var text = option && option.getAttribute('data-text');
    var box = document.getElementById(select.getAttribute('data-canned'));
    if (!text || !box) return;
    box.value = box.value.trim() ? box.value.replace(/\s+$/, '') + '\n' + text : text;
    select.value = '';
    box.focus();
  });

  function scrollConversation() {
    var c = document.getElementById('conversation');
    if (c) c.scrollTop = c.scrollHeight;
  }
  scrollConversation();

  if (page !== 'inbox') return;

  var baseTitle = document.title;
  function showCount() {
    var count = document.getElementById('open-count');
    var open = count ? Number(count.getAttribute('data-open')) : 0;
    document.title = (open ? '(' + open + ') ' : '') + baseTitle;
  }
  showCount();

  /** Replaces the element with this id by the same element of the fresh page. */
  function swap(doc, id) {
    var now = document.getElementById(id);
    var fresh = doc.getElementById(id);
    if (!now || !fresh) return false;
    now.replaceWith(document.importNode(fresh, true));
    return true;
  }

  var busy = false;
  var again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.pathname + window.location.search, { credentials: 'same-origin', headers: { 'X-Console-Auto': '1', Accept: 'text/html' } })
      .then(function (res) {
        if (res.status === 401) { window.location.reload(); return null; }
        return res.ok ? res.text() : null;
      })
      .then(function (text) {
        if (!text) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        swap(doc, 'ticket-list');
        swap(doc, 'open-count');
        swap(doc, 'ticket-head');
        var before = document.getElementById('conversation');
        var after = doc.getElementById('conversation');
        if (before && after && before.getAttribute('data-count') !== after.getAttribute('data-count')) {
          swap(doc, 'conversation');
          scrollConversation();
        }
        showCount();
        document.body.setAttribute('data-refreshed', String(Date.now()));
      })
      .catch(function () { /* the next event or the minute timer tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  var timer = null;
  function soon() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, 150);
  }
  setInterval(refresh, 60000);

  var lost = document.getElementById('live-lost');
  if (!window.EventSource) return;
  var opened = false;
  var stream = new EventSource('/staff/inbox/events');
  stream.addEventListener('open', function () {
    if (lost) lost.hidden = true;
    // After a reconnection, what happened while it was away.
    if (opened) soon();
    opened = true;
    document.body.setAttribute('data-live', '1');
  });
  stream.addEventListener('ticket', soon);
  stream.addEventListener('error', function () {
    if (lost) lost.hidden = false;
    document.body.setAttribute('data-live', '0');
    // A closed stream (signed out, or the server refused it) is not retried by the browser: reload to find out why.
    if (stream.readyState === 2) setTimeout(function () { window.location.reload(); }, 5000);
  });
})();
