// SMS codes pages: a reply's length in characters and SMS parts as it is typed (the
// placeholders filled for a sample member, an advertising reply's footer added: the
// same rules as sms_codes/text.py), and each code's chart of messages by day (the
// table beside it holds the same numbers).
(function () {
  "use strict";

  var GSM7 = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM7_EXTENDED = "^{}\\[~]|€\f";
  var PERSIAN = "۰۱۲۳۴۵۶۷۸۹";

  function parts(text) {
    var gsm = true, length = 0, i;
    for (i = 0; i < text.length; i++) {
      var ch = text.charAt(i);
      if (GSM7.indexOf(ch) >= 0) { length += 1; }
      else if (GSM7_EXTENDED.indexOf(ch) >= 0) { length += 2; }
      else { gsm = false; break; }
    }
    if (!gsm) { length = text.length; }  // UTF-16 code units, as UCS-2 counts them
    if (length === 0) { return {chars: 0, parts: 0}; }
    var single = gsm ? 160 : 70, each = gsm ? 153 : 67;
    return {chars: length, parts: length <= single ? 1 : Math.ceil(length / each)};
  }

  function fill(template, sample) {
    return template.replace(/\{(name|balance|tier|coupon|link)\}/g, function (_, key) {
      return sample[key] || "";
    });
  }

  function digits(value, persian) {
    var text = String(value);
    return persian ? text.replace(/[0-9]/g, function (d) { return PERSIAN.charAt(+d); }) : text;
  }

  function count(area) {
    var out = document.getElementById(area.dataset.countOutput);
    if (!out) { return; }
    var sample = JSON.parse(area.dataset.sample || "{}");
    var text = area.value.split("\n").map(function (l) { return l.trim(); }).join("\n").trim();
    var body = fill(text, sample);
    // An advertising reply is sent with its footer (sms_codes/text.py, with_footer).
    var form = area.form;
    var box = form ? form.querySelector("input[name=marketing]") : null;
    var footer = form ? form.dataset.footer : "";
    if (body && box && box.checked && footer && body.indexOf(footer) < 0) {
      body += "\n" + footer;
    }
    var result = parts(body);
    var persian = out.dataset.digits === "fa";
    if (result.chars === 0) { out.textContent = ""; return; }
    out.textContent = out.dataset.format
      .replace("{chars}", digits(result.chars, persian))
      .replace("{parts}", digits(result.parts, persian));
  }

  function charts() {
    if (typeof window.Chart === "undefined") { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var data = JSON.parse(canvas.dataset.chart);
      var rtl = document.documentElement.dir === "rtl";
      new window.Chart(canvas, {
        type: "bar",
        data: {labels: data.labels, datasets: data.series.map(function (s) {
          return {label: s.label, data: s.values};
        })},
        options: {
          locale: data.locale,
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: {legend: {rtl: rtl, position: "bottom"}, tooltip: {rtl: rtl}},
          scales: {x: {reverse: rtl}, y: {beginAtZero: true, ticks: {precision: 0}}}
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var areas = document.querySelectorAll("textarea[data-count-output]");
    areas.forEach(function (area) {
      area.addEventListener("input", function () { count(area); });
      count(area);
    });
    document.querySelectorAll("input[name=marketing]").forEach(function (box) {
      box.addEventListener("change", function () { areas.forEach(count); });
    });
    charts();
  });
})();
