/* Driver accounts in the browser: a sign-in carries the tokens of the sessions this device
   started (kept by app.js), so that the account keeps them too; and passkeys (WebAuthn):
   adding one on the account page, signing in with one. The server sends the options as
   JSON (base64url for bytes) and reads the browser's answer as JSON the same way. */
(function () {
  "use strict";

  function deviceSessions() {
    return window.Voltspot ? Voltspot.sessions().map(function (s) { return s.token; }) : [];
  }

  var field = document.querySelector("[data-vs-device-sessions]");
  if (field) field.value = deviceSessions().join(" ");

  if (!window.PublicKeyCredential || !navigator.credentials) return;

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withBytes(descriptors) {
    return (descriptors || []).map(function (d) {
      return Object.assign({}, d, {id: toBytes(d.id)});
    });
  }

  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, {id: toBytes(json.user.id)}),
      excludeCredentials: withBytes(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withBytes(json.allowCredentials),
    });
  }

  function credentialJson(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {clientDataJSON: toBase64url(response.clientDataJSON)},
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
    }
    if (credential.authenticatorAttachment) {
      json.authenticatorAttachment = credential.authenticatorAttachment;
    }
    return json;
  }

  function post(button, url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": button.dataset.csrf},
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || button.dataset.failed);
        return data;
      });
    });
  }

  function ceremony(button, run) {
    var status = button.parentElement.querySelector("[data-vs-passkey-status]");
    button.addEventListener("click", function () {
      button.disabled = true;
      if (status) status.textContent = "";
      post(button, button.dataset.optionsUrl)
        .then(run)
        .then(function (credential) {
          return post(button, button.dataset.url, credential);
        })
        .then(function (data) { window.location.assign(data.next); })
        .catch(function (error) {
          // A cancelled prompt (NotAllowedError) or a refusal: say so, keep the page.
          if (status) {
            status.textContent = error && error.name === "Error" && error.message
              ? error.message : button.dataset.failed;
          }
          button.disabled = false;
        });
    });
  }

  var register = document.querySelector("[data-vs-passkey-register]");
  if (register) {
    register.hidden = false;
    ceremony(register, function (options) {
      return navigator.credentials.create({publicKey: creationOptions(options)})
        .then(function (credential) { return {credential: credentialJson(credential)}; });
    });
  }

  var signIn = document.querySelector("[data-vs-passkey-sign-in]");
  if (signIn) {
    document.querySelector("[data-vs-passkey-section]").hidden = false;
    ceremony(signIn, function (options) {
      return navigator.credentials.get({publicKey: requestOptions(options)})
        .then(function (credential) {
          return {credential: credentialJson(credential), device_sessions: deviceSessions()};
        });
    });
  }
})();
