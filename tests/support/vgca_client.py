"""A small browser client of the plugin protocol, written for the tests from the protocol's description
(issue 10): each call opens `new WebSocket("wss://127.0.0.1:PORT/<Endpoint>")`, sends one text frame, hands
the first message to the callback, and closes. No third-party plugin code."""

PLUGIN_CLIENT_JS = r"""
(function () {
  function call(port, endpoint, body, callback) {
    var socket = new WebSocket("wss://127.0.0.1:" + port + "/" + endpoint);
    var done = false;
    socket.onopen = function () { socket.send(typeof body === "string" ? body : JSON.stringify(body)); };
    socket.onmessage = function (event) {
      if (done) return; done = true;
      var data = event.data;
      try { data = JSON.parse(data); } catch (e) { /* plain text answers stay text */ }
      callback(data); socket.close();
    };
    socket.onerror = function () { if (!done) { done = true; callback({ Status: -1, Message: "connection failed" }); } };
    socket.onclose = function () { if (!done) { done = true; callback({ Status: -1, Message: "closed" }); } };
  }
  function promised(port, endpoint, body) {
    return new Promise(function (resolve) { call(port, endpoint, body, resolve); });
  }
  window.TestPlugin = { call: call, promised: promised };
})();
"""
