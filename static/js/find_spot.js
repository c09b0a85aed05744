/* Find a spot: "Near me" fills in the position and searches; the map mirrors the list.
   The list never depends on the map: tiles that fail to load leave it untouched. */
(function () {
  var form = document.getElementById("spot-search");
  if (!form) { return; }
  var status = document.getElementById("locating");

  // Leave an unknown position out of the address rather than sending "lat=&lon=".
  form.addEventListener("htmx:configRequest", function (event) {
    ["lat", "lon"].forEach(function (name) {
      if (!event.detail.parameters[name]) { delete event.detail.parameters[name]; }
    });
  });
  form.addEventListener("submit", function () {
    ["lat", "lon"].forEach(function (name) {
      var input = document.getElementById(name);
      input.disabled = !input.value;
    });
  });

  document.getElementById("near-me").addEventListener("click", function () {
    if (!navigator.geolocation) {
      status.textContent = Voltspot.word("no position api");
      return;
    }
    status.textContent = Voltspot.word("locating");
    navigator.geolocation.getCurrentPosition(function (position) {
      document.getElementById("lat").value = position.coords.latitude.toFixed(5);
      document.getElementById("lon").value = position.coords.longitude.toFixed(5);
      status.textContent = "";
      form.requestSubmit();
    }, function () {
      status.textContent = Voltspot.word("no position");
    }, {timeout: 10000, maximumAge: 60000});
  });

  var mapElement = document.getElementById("map");
  if (!mapElement || !window.L) { return; }
  var words = mapElement.dataset;
  var map = L.map(mapElement, {scrollWheelZoom: false});
  // The tile source is a setting (VOLTSPOT_MAP_TILES, VOLTSPOT_MAP_ATTRIBUTION).
  var attribution = document.createElement("span");
  attribution.textContent = words.attribution;
  L.tileLayer(words.tiles, {maxZoom: 19, attribution: attribution.innerHTML}).addTo(map);
  var markers = L.layerGroup().addTo(map);
  var you = null;

  function line(text, tag) {
    var element = document.createElement(tag || "div");
    element.textContent = text;
    return element;
  }

  // A popup: the site (a link), its free count in words, the price, the power, and a
  // link that opens the phone's navigation to it.
  function popup(spot, lat, lon) {
    var box = document.createElement("div");
    box.className = "vs-popup";
    var name = line(spot.dataset.name, "a");
    name.href = spot.dataset.url;
    name.className = "fw-semibold";
    box.appendChild(name);
    box.appendChild(line(spot.dataset.words));
    if (spot.dataset.price) { box.appendChild(line(spot.dataset.price)); }
    box.appendChild(line(spot.dataset.power));
    var go = line(words.navigate, "a");
    go.href = "https://www.google.com/maps/dir/?api=1&destination=" + lat + "," + lon;
    go.target = "_blank";
    go.rel = "noopener";
    box.appendChild(go);
    return box;
  }

  // A pin coloured by availability that carries the number of free plugs, or a dash when
  // none is free (its name, the site's words, says why: in use, offline, out of order).
  function pin(spot) {
    var free = Number(spot.dataset.free);
    return L.divIcon({
      // A 44 px target around a 34 px badge.
      className: "vs-pin-target", iconSize: [44, 44], iconAnchor: [22, 22],
      popupAnchor: [0, -18],
      html: '<span class="vs-pin vs-pin-' + spot.dataset.tone + '">' + (free > 0 ? free : "\u2013") + "</span>"
    });
  }

  function showYou(lat, lon) {
    if (isNaN(lat) || isNaN(lon)) { return null; }
    if (you) { you.remove(); }
    you = L.marker([lat, lon], {
      icon: L.divIcon({className: "", iconSize: [18, 18], html: '<span class="vs-you-are-here"></span>'}),
      title: words.you, alt: words.you, keyboard: false, interactive: false,
      zIndexOffset: -1000
    }).addTo(map);
    return [lat, lon];
  }

  function drawMarkers() {
    // The listener outlives the page after a boosted navigation away from it.
    if (!document.body.contains(mapElement)) { return; }
    markers.clearLayers();
    var bounds = [];
    document.querySelectorAll(".vs-spot").forEach(function (spot) {
      var lat = parseFloat(spot.dataset.lat), lon = parseFloat(spot.dataset.lon);
      if (isNaN(lat) || isNaN(lon)) { return; }
      // The words hold the number the pin shows ("2 of 4 free"); a dash stands for none.
      var title = spot.dataset.name + ": " + spot.dataset.words;
      var marker = L.marker([lat, lon], {icon: pin(spot), title: title, alt: title});
      // Named by the site and its free plugs, not by the bare number it shows (its element
      // exists once the map has a view).
      marker.on("add", function () { marker.getElement().setAttribute("aria-label", title); });
      marker.bindPopup(popup(spot, lat, lon)).addTo(markers);
      bounds.push([lat, lon]);
    });
    var here = showYou(parseFloat(document.getElementById("lat").value),
                       parseFloat(document.getElementById("lon").value));
    if (here) { bounds.push(here); }
    shown = bounds;
    fit();
  }

  // Fitted again when the map's tab opens: a hidden map has no size to fit into.
  var shown = [];
  function fit() {
    if (shown.length) { map.fitBounds(shown, {maxZoom: 15, padding: [24, 24]}); }
    else { map.setView([52.37, 4.9], 7); }
  }
  drawMarkers();
  document.body.addEventListener("htmx:afterSettle", drawMarkers);
  var mapTab = document.getElementById("map-tab");
  if (mapTab) {
    mapTab.addEventListener("shown.bs.tab", function () { map.invalidateSize(); fit(); });
  }
})();
