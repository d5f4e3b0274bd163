// Matomo's configuration, read from the script tag's data attributes (the page's CSP allows no inline script).
(function () {
  var tag = document.currentScript;
  var base = tag.getAttribute("data-matomo");
  var _paq = (window._paq = window._paq || []);
  _paq.push(["trackPageView"], ["enableLinkTracking"]);
  _paq.push(["setTrackerUrl", base + "matomo.php"], ["setSiteId", tag.getAttribute("data-site-id")]);
  var script = document.createElement("script");
  script.async = true;
  script.src = base + "matomo.js";
  document.head.appendChild(script);
})();
