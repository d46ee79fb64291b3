// The screens the links in mail open, and the password-reset request: /verify-email?token=… verifies
// the address at once; /reset-password?token=… asks for the new password; /accept-invitation?token=…
// joins the organisation (a new address names itself and picks a password; an existing account gives
// its password, or nothing when this tab is signed in as it) and signs in. `#forgot` asks for a reset
// link. The token leaves the address bar as soon as it is read, so it is not kept in the history.
import { api, keep } from "./api.js";
import { attempt, field, h, main, value } from "./dom.js";
import { t } from "./i18n.js";

/** The link paths this module answers, as the gateway serves the console on them (console-page.ts). */
const LINK_SCREENS: Record<string, (token: string) => void> = {
  "/verify-email": verifyEmail,
  "/reset-password": resetPassword,
  "/accept-invitation": acceptInvitation,
};

/** Shows the screen of a mail link when the page was opened on one; false otherwise. */
export function renderLinkScreen(): boolean {
  const screen = LINK_SCREENS[location.pathname];
  if (!screen) return false;
  const token = new URLSearchParams(location.search).get("token") ?? "";
  history.replaceState(null, "", "/#link");
  screen(token);
  return true;
}

function verifyEmail(token: string): void {
  const status = h("p", { id: "link-status", role: "status" }, t("link.verifying"));
  main.replaceChildren(h("section", { id: "verify-email" }, h("h2", {}, t("link.verifyTitle")), status, h("p", {}, h("a", { href: "#jobs" }, t("link.toConsole")))));
  void attempt(async () => {
    status.textContent = t("link.verifying");
    const { user } = await api.auth.verifyEmail({ token });
    status.textContent = `${t("link.verified")} ${user?.email ?? ""}`;
    status.dataset.done = "true";
  });
}

function resetPassword(token: string): void {
  const status = h("p", { id: "link-status", role: "status" });
  const form = h(
    "form",
    {
      id: "reset-password",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(async () => {
          const password = value(form as HTMLFormElement, "password");
          if (password !== value(form as HTMLFormElement, "repeat")) throw new Error(t("link.mismatch"));
          await api.auth.resetPassword({ token, newPassword: password });
          form.replaceChildren(h("p", { id: "link-status", role: "status", "data-done": "true" }, t("link.passwordChanged")), h("p", {}, h("a", { href: "#" }, t("signIn"))));
          (form.querySelector("a") as HTMLElement).focus();
        });
      },
    },
    h("h2", {}, t("link.resetTitle")),
    field(t("link.newPassword"), h("input", { name: "password", type: "password", required: true, minlength: 12, maxlength: 128, autocomplete: "new-password", dir: "ltr" })),
    field(t("link.repeatPassword"), h("input", { name: "repeat", type: "password", required: true, minlength: 12, maxlength: 128, autocomplete: "new-password", dir: "ltr" })),
    h("button", { type: "submit" }, t("link.setPassword")),
    status,
  );
  main.replaceChildren(h("section", {}, form));
}

function acceptInvitation(token: string): void {
  const form = h(
    "form",
    {
      id: "accept-invitation",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(async () => {
          const res = await api.organizations.acceptInvitation({
            token,
            displayName: value(form as HTMLFormElement, "displayName"),
            password: value(form as HTMLFormElement, "password"),
          });
          keep(res.tokens, res.organization?.organizationId);
          sessionStorage.setItem("arabicstt-user", res.user?.email ?? "");
          // The address bar says #link now: the change renders the console's screen.
          location.hash = "#members";
        });
      },
    },
    h("h2", {}, t("link.acceptTitle")),
    h("p", { class: "hint" }, t("link.acceptHint")),
    field(t("displayName"), h("input", { name: "displayName", maxlength: 100, autocomplete: "name" })),
    field(t("password"), h("input", { name: "password", type: "password", minlength: 12, maxlength: 128, autocomplete: "new-password", dir: "ltr" })),
    h("button", { type: "submit" }, t("link.join")),
  );
  main.replaceChildren(h("section", {}, form));
}

/** `#forgot`: asks for a reset link; the answer is the same whether or not the address has an account. */
export function renderForgotPassword(): void {
  const status = h("p", { id: "link-status", role: "status" });
  const form = h(
    "form",
    {
      id: "forgot-password",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(async () => {
          await api.auth.requestPasswordReset({ email: value(form as HTMLFormElement, "email") });
          status.textContent = t("link.resetSent");
          status.dataset.done = "true";
        });
      },
    },
    h("h2", {}, t("link.forgotTitle")),
    field(t("email"), h("input", { name: "email", type: "email", required: true, autocomplete: "username", dir: "ltr", maxlength: 254 })),
    h("button", { type: "submit" }, t("link.sendReset")),
    status,
    h("p", {}, h("a", { href: "#" }, t("signIn"))),
  );
  main.replaceChildren(h("section", {}, form));
}
