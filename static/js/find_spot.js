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
  var map = L.map(mapElement, {scrollWheelZoom: false});
  L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: "© OpenStreetMap contributors"
  }).addTo(map);
  var markers = L.layerGroup().addTo(map);

  function drawMarkers() {
    markers.clearLayers();
    var bounds = [];
    document.querySelectorAll(".vs-spot").forEach(function (spot) {
      var lat = parseFloat(spot.dataset.lat), lon = parseFloat(spot.dataset.lon);
      if (isNaN(lat) || isNaN(lon)) { return; }
      var link = document.createElement("a");
      link.href = spot.dataset.url;
      link.textContent = spot.dataset.name;
      L.marker([lat, lon]).bindPopup(link).addTo(markers);
      bounds.push([lat, lon]);
    });
    if (bounds.length) { map.fitBounds(bounds, {maxZoom: 15, padding: [24, 24]}); }
    else { map.setView([52.37, 4.9], 7); }
  }
  drawMarkers();
  document.body.addEventListener("htmx:afterSettle", drawMarkers);
  var mapTab = document.getElementById("map-tab");
  if (mapTab) { mapTab.addEventListener("shown.bs.tab", function () { map.invalidateSize(); }); }
})();
