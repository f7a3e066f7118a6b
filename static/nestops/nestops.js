/* Small progressive enhancements; every page works without them. */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  // Copy buttons: <button data-copy="#input-id">
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.value !== undefined ? source.value : source.textContent;
    var done = function () {
      var label = button.getAttribute("data-copied") || "Copied";
      var before = button.textContent;
      button.textContent = label;
      setTimeout(function () { button.textContent = before; }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done);
    } else {
      source.select && source.select();
      document.execCommand("copy");
      done();
    }
  });

  // Dialogs: <button data-dialog="#id"> opens, [data-close] closes.
  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-dialog]");
    if (opener) {
      var dialog = document.querySelector(opener.getAttribute("data-dialog"));
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    var closer = event.target.closest("[data-close]");
    if (closer) {
      var open = closer.closest("dialog");
      if (open) { event.preventDefault(); open.close(); }
    }
  });

  // Delete confirmation: the button stays disabled until the name is typed exactly.
  document.addEventListener("input", function (event) {
    var field = event.target.closest("[data-confirm-name]");
    if (!field) return;
    var button = document.querySelector(field.getAttribute("data-confirm-button"));
    if (button) button.disabled = field.value !== field.getAttribute("data-confirm-name");
  });

  // Host password rule (the Compute Nest rule), checked as the user types.
  var SPECIALS = "()`~!@#$%^&*-+=|{}[]:;'<>,.?/";
  function checkPassword(input) {
    var list = document.querySelector(input.getAttribute("data-password-rules"));
    if (!list) return;
    var value = input.value;
    var kinds = [/[A-Z]/.test(value), /[a-z]/.test(value), /[0-9]/.test(value),
                 value.split("").some(function (c) { return SPECIALS.indexOf(c) >= 0; })];
    var allowed = value.split("").every(function (c) {
      return /[A-Za-z0-9]/.test(c) || SPECIALS.indexOf(c) >= 0;
    });
    var checks = {
      length: value.length >= 8 && value.length <= 30,
      kinds: kinds.filter(Boolean).length >= 3,
      characters: value.length > 0 && allowed
    };
    list.querySelectorAll("[data-rule]").forEach(function (item) {
      item.classList.toggle("met", !!checks[item.getAttribute("data-rule")]);
    });
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-password-rules]")) checkPassword(event.target);
  });

  // Sections shown for one choice of a radio group: <div data-show-when="name=value">.
  function syncSections(root) {
    (root || document).querySelectorAll("[data-show-when]").forEach(function (section) {
      var parts = section.getAttribute("data-show-when").split("=");
      var checked = document.querySelector('input[name="' + parts[0] + '"]:checked');
      var visible = checked ? checked.value === parts[1] : false;
      section.hidden = !visible;
    });
  }
  document.addEventListener("change", function () { syncSections(); });
  onReady(function () {
    syncSections();
    document.querySelectorAll("[data-password-rules]").forEach(checkPassword);
  });
  document.addEventListener("htmx:afterSwap", function (event) { syncSections(event.target); });
})();
