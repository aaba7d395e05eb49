// Progressive enhancement for the forms that send an SMS code (ADR 0013). Without JavaScript
// both still work: "another picture" reloads the page, and the server refuses a code asked
// for too soon.
//  1. A "send" button that carries data-wait counts down ("60 秒后可重新发送") and stays
//     disabled until the gateway would take another code for that number.
//  2. "Show another picture" loads the same page in the background and takes its new picture
//     code, so what was typed in the form stays.
(function () {
  function countDown(button) {
    var left = parseInt(button.getAttribute("data-wait"), 10);
    var text = button.getAttribute("data-wait-text") || "{seconds}";
    var label = button.textContent;
    if (!(left > 0)) return;
    function tick() {
      if (left <= 0) {
        button.disabled = false;
        button.textContent = label;
        return;
      }
      button.disabled = true;
      button.textContent = text.replace("{seconds}", String(left));
      left -= 1;
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  function takeNewPicture(box, fresh) {
    function copy(id, name) {
      box.querySelector(id).setAttribute(name, fresh.querySelector(id).getAttribute(name));
    }
    copy("#captcha-id", "value");
    box.querySelector("#captcha-id").value = fresh.querySelector("#captcha-id").value;
    copy("#captcha-image", "src");
    copy("#captcha-audio", "src");
    copy("#captcha-download", "href");
    var answer = box.querySelector("#captcha-answer");
    answer.value = "";
    answer.focus();
  }

  function enhanceRefresh(box, link) {
    if (!window.fetch || !window.DOMParser) return;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      window.fetch(link.href, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok) throw new Error("refused");
        return response.text();
      }).then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("captcha");
        if (!fresh || !fresh.querySelector("#captcha-id")) throw new Error("no picture");
        takeNewPicture(box, fresh);
      }).catch(function () { window.location.href = link.href; });
    });
  }

  var buttons = document.querySelectorAll("button[data-wait]");
  for (var i = 0; i < buttons.length; i++) countDown(buttons[i]);
  var box = document.getElementById("captcha");
  var link = document.getElementById("captcha-refresh");
  if (box && link) enhanceRefresh(box, link);
})();
