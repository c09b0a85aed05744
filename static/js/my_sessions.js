/* "My sessions": the sessions this device started (kept by app.js in localStorage), newest
   first, each linking to its session page (data-link on the list, TOKEN replaced). */
(function () {
  "use strict";
  var list = document.getElementById("my-sessions");
  if (!list) return;
  var sessions = window.Voltspot ? Voltspot.sessions() : [];
  var base = list.getAttribute("data-link");
  list.replaceChildren();
  sessions.forEach(function (s) {
    var item = document.createElement("a");
    item.className = "list-group-item list-group-item-action";
    item.href = base.replace("TOKEN", encodeURIComponent(s.token));
    item.textContent = s.label + " · " + new Date(s.savedAt).toLocaleString();
    list.appendChild(item);
  });
  document.getElementById("no-sessions").hidden = sessions.length > 0;
})();
