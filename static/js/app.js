/* Voltspot in the browser: the service worker, the sessions this device started, and
   "updated 12 s ago" texts that stay true. Loaded once per visit, in <head> and not
   deferred, so window.Voltspot exists before any page script in the body runs. htmx's
   boosted navigation swaps only the body, so everything here works on whatever body is
   current rather than holding on to elements. */
(function () {
  "use strict";

  var SESSIONS_KEY = "voltspot.sessions";
  var MAX_SESSIONS = 50;
  var REFRESH_MS = 5000;

  var ENGLISH = {"just now": "just now", "s ago": "{n} s ago", "min ago": "{n} min ago",
                 "h ago": "{n} h ago", "d ago": "{n} d ago", "updated": "updated"};

  /* A word in the page's language: base.html puts them in #vs-words ("{n}" is a number). */
  function word(key, n) {
    var words = ENGLISH;
    try {
      words = JSON.parse(document.getElementById("vs-words").textContent);
    } catch (error) {
      // a page without the words (or damaged ones): English
    }
    return String(words[key] || ENGLISH[key] || key).replace("{n}", n);
  }

  /* The same words as voltspot.web.pwa.relative_age. */
  function formatAge(date, now) {
    var seconds = Math.floor(((now || Date.now()) - date.getTime()) / 1000);
    if (seconds < 5) return word("just now");
    if (seconds < 60) return word("s ago", seconds);
    if (seconds < 3600) return word("min ago", Math.floor(seconds / 60));
    if (seconds < 86400) return word("h ago", Math.floor(seconds / 3600));
    return word("d ago", Math.floor(seconds / 86400));
  }

  /* Every element with data-updated-at="<ISO 8601 with offset>" reads
     "<data-updated-prefix, default 'updated'> 12 s ago". */
  function refreshAges() {
    var now = Date.now();
    document.querySelectorAll("[data-updated-at]").forEach(function (el) {
      var date = new Date(el.getAttribute("data-updated-at"));
      if (isNaN(date.getTime())) return;
      var prefix = el.getAttribute("data-updated-prefix") || word("updated");
      var text = prefix + " " + formatAge(date, now);
      if (el.textContent !== text) el.textContent = text;
      if (!el.title) el.title = date.toLocaleString(document.documentElement.lang || undefined);
    });
  }

  function readSessions() {
    try {
      var list = JSON.parse(window.localStorage.getItem(SESSIONS_KEY) || "[]");
      return Array.isArray(list) ? list : [];
    } catch (error) {
      return [];  // storage blocked (private mode) or a damaged value: nothing remembered
    }
  }

  /* Remember a session this device started, newest first. Remembering a token again only
     updates its label. Returns false when the browser will not store anything. */
  function rememberSession(token, label) {
    var list = readSessions();
    var existing = list.filter(function (s) { return s.token === token; })[0];
    if (existing) {
      existing.label = label;
    } else {
      list.unshift({token: token, label: label, savedAt: new Date().toISOString()});
    }
    try {
      window.localStorage.setItem(SESSIONS_KEY, JSON.stringify(list.slice(0, MAX_SESSIONS)));
      return true;
    } catch (error) {
      return false;
    }
  }

  /* The remembered sessions, newest first: [{token, label, savedAt}]. */
  // A session page carries [data-vs-remember-session]: remembered as the page arrives
  // (full load or htmx swap, in the same task), so "My sessions" lists it at once.
  function rememberFromPage() {
    var element = document.querySelector("[data-vs-remember-session]");
    if (element) {
      rememberSession(element.getAttribute("data-vs-remember-session"),
                      element.getAttribute("data-label"));
    }
  }

  function sessions() {
    return readSessions().map(function (s) {
      return {token: s.token, label: s.label, savedAt: s.savedAt};
    });
  }

  function registerServiceWorker() {
    var meta = document.querySelector('meta[name="voltspot:service-worker"]');
    if (!meta || !("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(meta.content, {scope: "/"}).catch(function (error) {
      console.warn("Voltspot: the service worker did not register:", error);
    });
  }

  function showConnection(offline) {
    var banner = document.getElementById("vs-connection");
    if (banner) banner.hidden = !offline;
  }

  /* A menu that folds away on a phone: a button with data-vs-menu, aria-controls and
     aria-expanded shows or hides the element it controls (class "show"). Opening moves
     the focus to the menu's first link (and so into view); Escape in the menu closes it
     and gives the focus back to the button. Pages arrive with it closed, and the copy of
     a page kept for the back button is taken with it closed. */
  function setMenu(button, open) {
    var menu = document.getElementById(button.getAttribute("aria-controls"));
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("show", open);
    if (open) {
      var first = menu.querySelector("a[href], button");
      if (first) first.focus();
    }
  }

  // The page's own address, through the phone's share sheet or else the clipboard.
  function share() {
    if (navigator.share) {
      navigator.share({title: document.title, url: location.href}).catch(function () {});
    } else if (navigator.clipboard) {
      navigator.clipboard.writeText(location.href);
    }
  }

  function openMenuButtons() {
    return document.querySelectorAll('[data-vs-menu][aria-expanded="true"]');
  }

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-vs-reload]")) window.location.reload();
    if (event.target.closest("[data-vs-print]")) window.print();
    if (event.target.closest("[data-vs-share]")) share();
    var menuButton = event.target.closest("[data-vs-menu]");
    if (menuButton) setMenu(menuButton, menuButton.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenuButtons().forEach(function (button) {
      var menu = document.getElementById(button.getAttribute("aria-controls"));
      if (button.contains(document.activeElement)
          || (menu && menu.contains(document.activeElement))) {
        setMenu(button, false);
        button.focus();
      }
    });
  });
  document.addEventListener("htmx:beforeHistorySave", function () {
    openMenuButtons().forEach(function (button) { setMenu(button, false); });
  });
  window.addEventListener("online", function () { showConnection(false); });
  window.addEventListener("offline", function () { showConnection(true); });
  document.addEventListener("htmx:sendError", function () { showConnection(true); });
  // Our 4xx answers are whole pages that explain what happened (plug taken, link not
  // valid); htmx would drop them by default and leave the driver on the old page.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status >= 400 && status < 500 && event.detail.serverResponse) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  document.addEventListener("htmx:afterSwap", rememberFromPage);
  document.addEventListener("htmx:afterSettle", function () {
    refreshAges();
    showConnection(!navigator.onLine);
  });

  window.Voltspot = {
    rememberSession: rememberSession,
    sessions: sessions,
    word: word,
  };

  function start() {
    rememberFromPage();
    refreshAges();
    showConnection(!navigator.onLine);
    window.setInterval(refreshAges, REFRESH_MS);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  // After the page's own loads, so installing the shell never competes with them.
  window.addEventListener("load", registerServiceWorker);
})();
