// Sends the page's CSRF token with every htmx request (Flask-WTF reads the X-CSRFToken header).
// A file of its own, not an inline script, so the Content-Security-Policy can forbid inline scripts.
document.addEventListener("htmx:configRequest", function (event) {
  var meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) {
    event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
  }
});
