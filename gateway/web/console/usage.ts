// The console's usage screen: the last 14 days of billed audio as a bar chart (one bar a day, drawn with
// plain elements, no library), the period's totals, and the plan's quotas with how much of each is used.
import { timestampDate, timestampFromDate, type Duration } from "@bufbuild/protobuf/wkt";
import { QuotaMetric, UsageGranularity } from "../../../proto/gen/arabicstt/v1/usage_pb.js";
import { api } from "./api.js";
import { h, main } from "./dom.js";
import { language, t } from "./i18n.js";

const DAYS = 14;

function secondsOf(d: Duration | undefined): number {
  return Number(d?.seconds ?? 0n) + (d?.nanos ?? 0) / 1e9;
}

export async function renderUsage(): Promise<void> {
  const end = new Date();
  const start = new Date(end.getTime() - DAYS * 86_400_000);
  const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const [usage, quota] = await Promise.all([
    api.usage.getUsage({ startTime: timestampFromDate(start), endTime: timestampFromDate(end), granularity: UsageGranularity.DAY, timeZone }),
    api.usage.getQuota({}),
  ]);
  const values = usage.buckets.map((b) => ({ day: b.startTime ? timestampDate(b.startTime) : start, seconds: secondsOf(b.usage?.billedDuration) }));
  const most = Math.max(1, ...values.map((v) => v.seconds));
  const format = new Intl.DateTimeFormat(language(), { month: "short", day: "numeric" });
  const chart = h(
    "div",
    { id: "usage-chart", class: "chart", role: "img", "aria-label": t("usage.chart") },
    ...values.map((v) =>
      h(
        "div",
        { class: "bar-row", "data-seconds": v.seconds.toFixed(1) },
        h("span", { class: "day" }, format.format(v.day)),
        h("span", { class: "bar", style: `inline-size: ${((100 * v.seconds) / most).toFixed(1)}%` }),
        h("span", { class: "amount" }, minutes(v.seconds)),
      ),
    ),
  );
  const total = usage.total;
  const totals = h(
    "dl",
    { id: "usage-totals" },
    h("dt", {}, t("usage.billed")),
    h("dd", { "data-seconds": secondsOf(total?.billedDuration).toFixed(1) }, minutes(secondsOf(total?.billedDuration))),
    h("dt", {}, t("jobs")),
    h("dd", { id: "usage-jobs" }, String(total?.jobCount ?? 0n)),
    h("dt", {}, t("usage.sessions")),
    h("dd", {}, String(total?.streamingSessionCount ?? 0n)),
  );
  const limits = h(
    "div",
    { id: "quota" },
    ...quota.limits.map((l) =>
      h(
        "div",
        { class: "quota", "data-metric": QuotaMetric[l.metric] },
        h("span", {}, t(`quota.${l.metric}`)),
        " ",
        l.limit === undefined ? h("span", {}, `${l.used} / ${t("quota.unlimited")}`) : h("meter", { min: 0, max: Number(l.limit), value: Number(l.used), "aria-label": t(`quota.${l.metric}`) }),
        l.limit !== undefined && h("span", {}, ` ${l.used} / ${l.limit}`),
      ),
    ),
  );
  main.replaceChildren(
    h("section", {}, h("h2", {}, t("usage")), h("h3", {}, t("usage.chart")), chart, totals),
    h("section", {}, h("h2", {}, t("quota"), quota.plan ? ` (${quota.plan})` : ""), limits),
  );
}

/** Minutes and seconds, m:ss. */
function minutes(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
