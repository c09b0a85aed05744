/* In-app QR scanner for phones whose camera app does not open links: reads frames with
   jsQR and opens the plug page of the first Voltspot code it sees.

   The camera is on only while the scanner is on screen. htmx's boosted navigation swaps the
   body without unloading the page, so leaving by an in-app link would otherwise leave the
   stream running, and coming back would open a second one: every way out (a boosted
   navigation, the page hidden or unloaded) stops the stream, and this script running again
   stops any stream an earlier run left. A hidden page that is shown again restarts it. */
(function () {
  if (window.Voltspot && Voltspot.stopScanner) { Voltspot.stopScanner(); }
  var video = document.getElementById("scan-video");
  if (!video) { return; }
  var canvas = document.getElementById("scan-canvas");
  var status = document.getElementById("scan-status");
  var context = canvas.getContext("2d", {willReadFrequently: true});
  var stream = null;
  var done = false;
  var left = false;

  function word(key, n) {
    return window.Voltspot ? Voltspot.word(key, n) : key;
  }

  function release() {
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.srcObject = null;
    video.hidden = true;
  }

  function leave() {
    left = true;
    release();
    document.removeEventListener("htmx:beforeHistorySave", leave);
    document.removeEventListener("visibilitychange", onVisibility);
    window.removeEventListener("pagehide", leave);
    if (window.Voltspot && Voltspot.stopScanner === leave) { Voltspot.stopScanner = null; }
  }

  function onVisibility() {
    if (document.hidden) {
      release();
    } else if (!done && !left) {
      start();
    }
  }

  function onShow(event) {
    // Back from the browser's page cache: the other listeners were removed on pagehide.
    if (event.persisted && document.body.contains(video)) {
      left = false;
      listen();
      start();
    }
  }

  function listen() {
    document.addEventListener("htmx:beforeHistorySave", leave);
    document.addEventListener("visibilitychange", onVisibility);
    window.addEventListener("pagehide", leave);
    if (window.Voltspot) { Voltspot.stopScanner = leave; }
  }

  function open(text) {
    var match = /\/c\/([A-Za-z0-9*\-]+)/.exec(text);
    var code = match ? match[1] : text.trim();
    done = true;
    release();
    status.textContent = word("found code", code);
    window.location.href = "/scan?code=" + encodeURIComponent(code);
  }

  function tick() {
    if (done || !stream) { return; }
    if (video.readyState === video.HAVE_ENOUGH_DATA) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var found = window.jsQR && jsQR(image.data, image.width, image.height,
                                      {inversionAttempts: "dontInvert"});
      if (found && found.data) { open(found.data); return; }
    }
    window.requestAnimationFrame(tick);
  }

  function start() {
    if (stream) { return; }
    navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
      .then(function (opened) {
        if (left || done || stream || document.hidden) {
          // The driver moved on while the camera was starting.
          opened.getTracks().forEach(function (track) { track.stop(); });
          return;
        }
        stream = opened;
        video.srcObject = opened;
        video.hidden = false;
        video.play();
        status.textContent = word("looking");
        window.requestAnimationFrame(tick);
      })
      .catch(function () {
        status.textContent = word("no camera");
      });
  }

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status.textContent = word("no camera api");
    return;
  }
  listen();
  window.addEventListener("pageshow", onShow);
  start();
})();
