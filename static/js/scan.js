/* In-app QR scanner for phones whose camera app does not open links: reads frames with
   jsQR and opens the plug page of the first Voltspot code it sees. */
(function () {
  var video = document.getElementById("scan-video");
  if (!video) { return; }
  var canvas = document.getElementById("scan-canvas");
  var status = document.getElementById("scan-status");
  var context = canvas.getContext("2d", {willReadFrequently: true});
  var done = false;

  function open(text) {
    var match = /\/c\/([A-Za-z0-9*\-]+)/.exec(text);
    var code = match ? match[1] : text.trim();
    done = true;
    status.textContent = Voltspot.word("found code", code);
    window.location.href = "/scan?code=" + encodeURIComponent(code);
  }

  function tick() {
    if (done) { return; }
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

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status.textContent = Voltspot.word("no camera api");
    return;
  }
  navigator.mediaDevices.getUserMedia({video: {facingMode: "environment"}, audio: false})
    .then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      status.textContent = Voltspot.word("looking");
      window.requestAnimationFrame(tick);
    })
    .catch(function () {
      status.textContent = Voltspot.word("no camera");
    });
})();
