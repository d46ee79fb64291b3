// The console's organisation screen (#members): the signed-in account (its address verified or not,
// with a new verification mail on request), the organisation's members with their roles (change a role,
// remove a member) and invitations by mail with a role. Who may do what is the server's to say (ADMIN
// manages members, OWNER manages owners): a refused action is explained like any other error.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { MemberRole } from "../../../proto/gen/arabicstt/v1/common_pb.js";
import type { Member } from "../../../proto/gen/arabicstt/v1/organization_pb.js";
import { api } from "./api.js";
import { attempt, field, h, main, value } from "./dom.js";
import { language, t } from "./i18n.js";

const ROLES = [MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER, MemberRole.VIEWER];

function roleSelect(attrs: Record<string, unknown>, selected: MemberRole): HTMLSelectElement {
  return h("select", attrs, ...ROLES.map((r) => h("option", { value: r, selected: r === selected }, t(`role.${r}`)))) as HTMLSelectElement;
}

export async function renderMembers(): Promise<void> {
  const [{ organization }, { user }] = await Promise.all([api.organizations.getOrganization({}), api.auth.getCurrentUser({})]);
  const account = h(
    "p",
    { id: "account", "data-verified": String(user?.emailVerified ?? false) },
    h("span", { dir: "ltr" }, user?.email ?? ""),
    " · ",
    user?.emailVerified
      ? t("members.verified")
      : h("span", {}, t("members.unverified"), " ", h("button", { type: "button", id: "resend-verification", onclick: () => void attempt(() => resend(user?.email ?? "")) }, t("members.resend"))),
  );
  const sent = h("ul", { id: "invitations", "aria-live": "polite" });
  const invite = h(
    "form",
    {
      id: "invite",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void attempt(async () => {
          const form = invite as HTMLFormElement;
          const { invitation } = await api.organizations.inviteMember({ email: value(form, "email"), role: Number(value(form, "role")) as MemberRole });
          if (!invitation) return;
          const until = invitation.expiresAt ? timestampDate(invitation.expiresAt).toLocaleDateString(language()) : "";
          sent.prepend(h("li", { class: "invitation", "data-email": invitation.email }, h("span", { dir: "ltr" }, invitation.email), ` · ${t(`role.${invitation.role}`)} · ${t("members.invitedUntil")} ${until}`));
          form.reset();
        });
      },
    },
    h("h3", {}, t("members.invite")),
    field(t("email"), h("input", { name: "email", type: "email", required: true, dir: "ltr", maxlength: 254, autocomplete: "off" })),
    field(t("members.role"), roleSelect({ name: "role", id: "invite-role" }, MemberRole.MEMBER)),
    h("button", { type: "submit" }, t("members.sendInvite")),
    sent,
  );
  const list = h("div", { id: "members" });
  main.replaceChildren(
    h("section", {}, h("h2", {}, t("members.title"), organization ? `: ${organization.name}` : ""), account, h("div", { id: "member-list-section" }, h("h3", {}, t("members")), list)),
    h("section", {}, invite),
  );
  await loadMembers(list, user?.userId ?? "");
}

async function resend(email: string): Promise<void> {
  await api.auth.resendVerification({ email });
  const button = document.getElementById("resend-verification");
  button?.replaceWith(h("span", { id: "verification-sent", role: "status" }, t("members.resent")));
}

async function loadMembers(list: HTMLElement, me: string): Promise<void> {
  const members: Member[] = [];
  // Every page (200 a page, the most the API gives).
  let token = "";
  do {
    const page = await api.organizations.listMembers({ pageSize: 200, pageToken: token });
    members.push(...page.members);
    token = page.nextPageToken;
  } while (token);
  list.replaceChildren(...members.map((m) => memberRow(m, m.userId === me, () => loadMembers(list, me))));
}

function memberRow(member: Member, isMe: boolean, reload: () => Promise<void>): HTMLElement {
  const name = member.displayName || member.email;
  const role = roleSelect({ class: "role", "aria-label": `${t("members.role")}: ${name}` }, member.role);
  return h(
    "div",
    { class: "member", "data-email": member.email, "data-role": MemberRole[member.role] },
    h("span", { class: "name", dir: "auto" }, name, isMe ? ` (${t("members.you")})` : ""),
    h("span", { class: "email", dir: "ltr" }, member.email),
    role,
    h(
      "button",
      {
        type: "button",
        class: "change-role",
        onclick: () =>
          void attempt(async () => {
            await api.organizations.updateMemberRole({ userId: member.userId, role: Number(role.value) as MemberRole });
            await reload();
          }),
      },
      t("members.changeRole"),
    ),
    h(
      "button",
      {
        type: "button",
        class: "remove-member",
        "aria-label": `${t("members.remove")}: ${name}`,
        onclick: () =>
          void attempt(async () => {
            await api.organizations.removeMember({ userId: member.userId });
            await reload();
          }),
      },
      t("members.remove"),
    ),
  );
}
