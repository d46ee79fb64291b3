// The console's DOM helpers: an element builder, the main area, errors shown in plain words.
import { describeError } from "./api.js";
import { t } from "./i18n.js";

type Child = Node | string | false | undefined;

/** A DOM element: attributes (on* are listeners) and children. */
export function h(tag: string, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value as EventListener);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== false && child !== undefined) el.append(child);
  return el;
}

export const main = document.getElementById("main")!;
const errors = document.getElementById("errors")!;
export const nav = document.getElementById("nav")!;

/** Shows an error in plain words, with the server's detail and the request id to quote. */
export function showError(err: unknown): void {
  const { key, detail, requestId } = describeError(err);
  const box = h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, t(key)),
    detail && h("p", { class: "detail", dir: "ltr" }, detail),
    requestId && h("p", { class: "detail" }, `${t("requestId")}: `, h("code", { class: "request-id" }, requestId)),
    h("button", { type: "button", onclick: () => box.remove() }, t("dismiss")),
  );
  errors.replaceChildren(box);
  box.querySelector("button")!.focus();
}

/** Runs an action, showing its failure. */
export async function attempt(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    showError(err);
  }
}

export function field(label: string, input: HTMLElement): HTMLElement {
  return h("label", {}, h("span", {}, label), input);
}

export function value(form: HTMLFormElement, name: string): string {
  return (form.elements.namedItem(name) as HTMLInputElement).value;
}

