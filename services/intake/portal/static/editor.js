// The criterion editor, enhanced: the answer and the narrative save themselves shortly after
// each change, and a link or a file is added without leaving the page. Without this script
// the same form still saves the answer before it adds any link or file (one form, its
// buttons post to different addresses), so nothing typed is lost either way.
// A polite status line says what happened; a conflict with a colleague's save stops the
// automatic saving and shows the page's own explanation.
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !window.DOMParser) return;

  function page(html) { return new DOMParser().parseFromString(html, "text/html"); }
  function post(url, body) {
    return fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.text().then(function (html) { return { ok: r.ok, fresh: page(html) }; }); });
  }
  function words(node) { return node.textContent.replace(/\s+/g, " ").trim(); }

  function init() {
    var form = document.getElementById("answer-form");
    var status = document.getElementById("autosave-status");
    if (!form || !status) return;
    var timer = null, saving = false, again = false, stopped = false;
    function say(text) { status.textContent = text; }
    function field(name) { return form.querySelector("[name='" + name + "']"); }
    function chosen() { return form.querySelector("input[name='response']:checked"); }

    function save() {
      if (stopped || !chosen()) return;  // an answer is needed before anything is saved
      if (saving) { again = true; return; }
      saving = true; again = false;
      say(status.dataset.saving);
      var body = new URLSearchParams();
      body.set("csrf_token", field("csrf_token").value);
      body.set("version", field("version").value);
      body.set("response", chosen().value);
      body.set("narrative", field("narrative").value);
      body.set("action", "save");
      // (form.action would be the buttons named "action", not the address)
      post(form.getAttribute("action"), body).then(function (res) {
        if (res.ok) {
          var version = res.fresh.querySelector("#answer-form input[name='version']");
          if (version) field("version").value = version.value;
          var time = new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
          say(status.dataset.saved.replace("{time}", time));
        } else {
          stopped = true;  // a colleague saved meanwhile, or the answer is refused: say why
          var summary = res.fresh.getElementById("error-summary");
          say(summary ? words(summary) : status.dataset.failed);
        }
      }).catch(function () { say(status.dataset.failed); })
        .then(function () { saving = false; if (again) schedule(); });
    }
    function schedule() { clearTimeout(timer); timer = setTimeout(save, 1200); }
    form.addEventListener("input", function (e) {
      if (e.target.name === "narrative" || e.target.name === "response") schedule();
    });

    // A link or a file: the whole form goes (so the answer is saved first, as without the
    // script) and the page's main part is replaced by the one the server answers with.
    form.querySelectorAll("button[formaction]").forEach(function (button) {
      button.addEventListener("click", function (e) {
        e.preventDefault();
        clearTimeout(timer);
        stopped = true;
        var multipart = button.getAttribute("formenctype") === "multipart/form-data";
        var body = multipart ? new FormData(form) : new URLSearchParams(new FormData(form));
        say(status.dataset.sending);
        post(button.formAction, body).then(function (res) {
          var main = res.fresh.getElementById("main");
          if (!main) throw new Error("not a page");
          document.getElementById("main").innerHTML = main.innerHTML;
          document.title = res.fresh.title;
          init();
          var message = document.querySelector("#main [role='status']:not(#autosave-status), #error-summary");
          if (message) { message.setAttribute("tabindex", "-1"); message.focus(); }
        }).catch(function () { stopped = false; say(status.dataset.failed); });
      });
    });
  }
  init();
})();
