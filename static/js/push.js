/* "Tell me when it's done" on the live session page (pwa/templates/driver/_push_offer.html).

   Offered only once charging has started (#live's data-status) and only where the browser
   has the Push API. A tap asks for permission (only then, in the driver's own gesture),
   subscribes the service worker with the server's VAPID key and posts the subscription for
   this session; "Stop telling me" takes it back. One browser has one push subscription,
   shared by the sessions it follows: it is cancelled only when no session uses it any more.
   Runs again after each boosted navigation; the document-wide listener is added once. */
(function () {
  "use strict";

  var STORE = "voltspot.push";  // {sessionToken: endpoint} of the sessions told here
  var STARTED = ["charging", "suspended", "finishing"];

  function supported() {
    return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  }

  function told() {
    try {
      var value = JSON.parse(window.localStorage.getItem(STORE) || "{}");
      return value && typeof value === "object" ? value : {};
    } catch (error) {
      return {};
    }
  }

  function remember(token, endpoint) {
    var all = told();
    if (endpoint) all[token] = endpoint; else delete all[token];
    try {
      window.localStorage.setItem(STORE, JSON.stringify(all));
    } catch (error) {
      // storage blocked: the server still tells this device; the page forgets it did
    }
    return all;
  }

  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    var raw = window.atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function sameKey(subscription, key) {
    var given = subscription.options && subscription.options.applicationServerKey;
    if (!given) return false;
    var a = new Uint8Array(given);
    if (a.length !== key.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== key[i]) return false;
    return true;
  }

  /* Show one state: "offer" (the button), "on", "blocked" or "failed". */
  function show(section, state, message) {
    section.querySelector('[data-vs-push="on"]').hidden = state !== "offer";
    section.querySelectorAll("[data-vs-push-state]").forEach(function (el) {
      el.hidden = el.getAttribute("data-vs-push-state") !== state;
      if (!el.hidden && message) el.textContent = message;
    });
    // Said once more in the status region that stays in the page, for screen readers.
    var shown = section.querySelector('[data-vs-push-state="' + state + '"]');
    var said = section.querySelector("[data-vs-push-said]");
    if (said) said.textContent = shown ? (shown.querySelector("p") || shown).textContent.trim() : "";
  }

  function started() {
    var live = document.getElementById("live");
    return !!live && STARTED.indexOf(live.getAttribute("data-status")) >= 0;
  }

  function registration() {
    var meta = document.querySelector('meta[name="voltspot:service-worker"]');
    return navigator.serviceWorker.register(meta.content, {scope: "/"})
      .then(function () { return navigator.serviceWorker.ready; });
  }

  function turnOn(section) {
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        show(section, permission === "denied" ? "blocked" : "offer");
        return null;
      }
      return Promise.all([
        registration(),
        fetch(section.getAttribute("data-key-url")).then(function (r) { return r.json(); }),
      ]).then(function (both) {
        var manager = both[0].pushManager;
        var key = keyBytes(both[1].publicKey);
        return manager.getSubscription().then(function (existing) {
          if (existing && sameKey(existing, key)) return existing;
          var fresh = function () {
            return manager.subscribe({userVisibleOnly: true, applicationServerKey: key});
          };
          return existing ? existing.unsubscribe().then(fresh) : fresh();
        });
      }).then(function (subscription) {
        return fetch(section.getAttribute("data-subscription-url"), {
          method: "POST",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify(subscription.toJSON()),
        }).then(function (response) {
          if (response.ok) {
            remember(section.getAttribute("data-token"), subscription.endpoint);
            show(section, "on");
            return null;
          }
          return response.json().then(function (problem) {
            show(section, "failed", problem.error);
          });
        });
      });
    }).catch(function (error) {
      console.warn("Voltspot: notifications not set up:", error);
      show(section, "failed");
    });
  }

  function turnOff(section) {
    var token = section.getAttribute("data-token");
    var endpoint = told()[token];
    fetch(section.getAttribute("data-subscription-url"), {
      method: "DELETE",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({endpoint: endpoint}),
    }).then(function () {
      var left = remember(token, null);
      show(section, "offer");
      if (Object.keys(left).length === 0) {
        return navigator.serviceWorker.ready
          .then(function (r) { return r.pushManager.getSubscription(); })
          .then(function (subscription) { return subscription && subscription.unsubscribe(); });
      }
      return null;
    }).catch(function (error) {
      console.warn("Voltspot: notifications not turned off:", error);
    });
  }

  /* Show or hide the offer for the page as it is now. */
  function refresh() {
    var section = document.getElementById("vs-push");
    if (!section) return;
    if (!supported() || !started()) {
      section.hidden = true;
      return;
    }
    if (section.hidden) {
      section.hidden = false;
      var token = section.getAttribute("data-token");
      if (Notification.permission === "denied") show(section, "blocked");
      else if (told()[token] && Notification.permission === "granted") show(section, "on");
      else show(section, "offer");
    }
  }

  if (!window.VoltspotPush) {
    window.VoltspotPush = {refresh: refresh};
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-vs-push]");
      var section = button && button.closest("#vs-push");
      if (!section) return;
      if (button.getAttribute("data-vs-push") === "on") turnOn(section); else turnOff(section);
    });
    // The live part is swapped in as the session moves on (starting → charging).
    document.addEventListener("htmx:afterSettle", refresh);
  }
  refresh();
})();
