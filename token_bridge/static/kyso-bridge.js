/*
 * kyso-bridge.js: the browser client of the kyso token bridge (ký số qua thiết bị USB token).
 *
 * Include it (from the bridge itself or from your own server) and call:
 *
 *   const bridge = new KysoBridge({ baseUrl: "http://127.0.0.1:8988", lang: "vi" });
 *   const certificates = await bridge.listCertificates();   // [{id, kind, subject, identity, ...}]
 *   const result = await bridge.signDigest({
 *     certificateId: certificates[0].id,
 *     digest: base64OrBytes,                    // the digest the central service returned
 *     digestAlgorithm: "sha256",                // sha256 | sha384 | sha512
 *     signatureAlgorithm: "rsassa_pkcs1v15",    // rsassa_pkcs1v15 | rsassa_pss | ecdsa
 *     description: "Quyết định 12/QĐ-UBND (Hệ thống quản lý văn bản)",
 *   });                                         // {signature, certificate, chain}: base64 DER
 *
 * Every failure is a KysoBridgeError with `code` (stable, e.g. "pin_incorrect", "consent_refused",
 * "bridge_unreachable"), `message` in the chosen language, `messageVi`, `messageEn` and `status`
 * (the HTTP status, 0 when the bridge could not be reached or refused this page's origin).
 */
(function (root) {
  "use strict";

  var DEFAULT_BASE_URL = "http://127.0.0.1:8988";

  function KysoBridgeError(code, messageEn, messageVi, status, lang, details) {
    this.name = "KysoBridgeError";
    this.code = code;
    this.messageEn = messageEn;
    this.messageVi = messageVi;
    this.status = status;
    this.details = details || {};
    this.message = lang === "en" ? messageEn : messageVi;
  }
  KysoBridgeError.prototype = Object.create(Error.prototype);
  KysoBridgeError.prototype.constructor = KysoBridgeError;

  function toBase64(value) {
    if (typeof value === "string") return value;
    var bytes = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError("digest must be a base64 string, an ArrayBuffer or a Uint8Array");
    }
    var text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }

  function KysoBridge(options) {
    options = options || {};
    this.baseUrl = (options.baseUrl || DEFAULT_BASE_URL).replace(/\/+$/, "");
    this.lang = options.lang === "en" ? "en" : "vi";
    this.timeoutMs = options.timeoutMs || 300000; // the user may take a while to type the PIN
  }

  KysoBridge.prototype._request = function (method, path, body) {
    var self = this;
    var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
    var timer = controller ? setTimeout(function () { controller.abort(); }, self.timeoutMs) : null;
    var init = { method: method, headers: {}, credentials: "omit", cache: "no-store" };
    if (controller) init.signal = controller.signal;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(self.baseUrl + path, init).then(
      function (response) {
        if (timer) clearTimeout(timer);
        return response.text().then(function (text) {
          var data = null;
          try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
          if (response.ok && data) return data;
          var error = (data && data.error) || {};
          throw new KysoBridgeError(
            error.code || "http_" + response.status,
            error.message || "The token bridge answered HTTP " + response.status + ".",
            error.message_vi || "Cầu nối ký số trả lời lỗi HTTP " + response.status + ".",
            response.status, self.lang, error);
        });
      },
      function (failure) {
        if (timer) clearTimeout(timer);
        // fetch hides why: the bridge is not running, or it refused this page's origin (no CORS headers).
        throw new KysoBridgeError(
          "bridge_unreachable",
          "Cannot reach the token bridge at " + self.baseUrl + ": it is not running, or this page is not allowed to use it.",
          "Không kết nối được cầu nối ký số tại " + self.baseUrl + ": chương trình chưa chạy, hoặc trang này không được phép sử dụng.",
          0, self.lang, { cause: String(failure) });
      });
  };

  KysoBridge.prototype.status = function () { return this._request("GET", "/v1/status"); };

  KysoBridge.prototype.listTokens = function () {
    return this._request("GET", "/v1/tokens").then(function (data) { return data.tokens; });
  };

  KysoBridge.prototype.listCertificates = function () {
    return this._request("GET", "/v1/certificates").then(function (data) { return data.certificates; });
  };

  KysoBridge.prototype.signDigest = function (request) {
    var self = this;
    var body;
    try {
      body = {
        certificate_id: request.certificateId,
        digest: toBase64(request.digest),
        digest_algorithm: request.digestAlgorithm || "sha256",
        signature_algorithm: request.signatureAlgorithm,
        description: request.description,
      };
    } catch (e) {
      return Promise.reject(new KysoBridgeError("invalid_request", String(e.message),
        "Giá trị băm phải là chuỗi base64, ArrayBuffer hoặc Uint8Array.", 0, self.lang));
    }
    return this._request("POST", "/v1/signatures", body);
  };

  KysoBridge.KysoBridgeError = KysoBridgeError;
  root.KysoBridge = KysoBridge;
  root.KysoBridgeError = KysoBridgeError;
  if (typeof module !== "undefined" && module.exports) module.exports = KysoBridge;
})(typeof window !== "undefined" ? window : this);
