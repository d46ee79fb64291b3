// The console's words, Arabic first and English beside them. The chosen language is kept in
// localStorage; Arabic lays the page out right to left, English left to right (transcripts stay
// right to left in both).
const ar = {
  title: "منصّة التعرّف على الكلام العربي",
  switchLanguage: "English",
  register: "إنشاء حساب",
  signIn: "تسجيل الدخول",
  signOut: "تسجيل الخروج",
  email: "البريد الإلكتروني",
  password: "كلمة السر (١٢ حرفًا على الأقل)",
  displayName: "الاسم",
  organizationName: "اسم المؤسسة",
  jobs: "المهام",
  apiKeys: "مفاتيح الواجهة البرمجية",
  upload: "رفع ملف وإنشاء مهمة",
  file: "الملف الصوتي",
  model: "النموذج",
  defaultModel: "النموذج الافتراضي",
  language: "اللغة",
  start: "ابدأ",
  uploading: "جارٍ الرفع…",
  checking: "جارٍ فحص الملف…",
  jobCreated: "أُنشئت المهمة",
  refresh: "تحديث",
  noJobs: "لا مهام بعد.",
  open: "افتح النص",
  created: "أُنشئ",
  state: "الحالة",
  progress: "التقدّم",
  transcript: "النص",
  back: "رجوع",
  speaker: "المتحدث",
  channel: "القناة",
  export: "تصدير",
  exporting: "جارٍ التصدير…",
  keyName: "اسم المفتاح",
  scopes: "الصلاحيات",
  createKey: "إنشاء مفتاح",
  keyShownOnce: "انسخ هذا المفتاح الآن: لن يظهر مرة أخرى.",
  revoke: "إلغاء",
  revoked: "مُلغى",
  active: "فعّال",
  expired: "منتهٍ",
  noKeys: "لا مفاتيح بعد.",
  signedInAs: "مسجّل باسم",
  requestId: "رقم الطلب",
  dismiss: "إغلاق",
  "state.1": "في الانتظار",
  "state.2": "قيد المعالجة",
  "state.3": "اكتملت",
  "state.4": "فشلت",
  "state.5": "أُلغيت",
  "error.unauthenticated": "انتهت الجلسة أو أن بيانات الدخول غير صحيحة. سجّل الدخول مرة أخرى.",
  "error.permission_denied": "ليست لديك صلاحية لهذا الإجراء.",
  "error.invalid_argument": "بعض ما أدخلته غير صالح.",
  "error.not_found": "لم يُعثر على العنصر المطلوب.",
  "error.already_exists": "هذا موجود بالفعل.",
  "error.resource_exhausted": "تجاوزت الحدّ المسموح. حاول لاحقًا.",
  "error.failed_precondition": "لا يمكن تنفيذ هذا الإجراء الآن.",
  "error.unavailable": "الخدمة غير متاحة مؤقتًا. حاول بعد قليل.",
  "error.deadline_exceeded": "استغرق الطلب وقتًا أطول من المسموح.",
  "error.network": "تعذّر الاتصال بالخادم.",
  "error.other": "حدث خطأ غير متوقع.",
};

type Key = keyof typeof ar;

const en: Record<Key, string> = {
  title: "Arabic speech-to-text platform",
  switchLanguage: "العربية",
  register: "Create account",
  signIn: "Sign in",
  signOut: "Sign out",
  email: "E-mail",
  password: "Password (at least 12 characters)",
  displayName: "Name",
  organizationName: "Organisation name",
  jobs: "Jobs",
  apiKeys: "API keys",
  upload: "Upload a file and create a job",
  file: "Audio file",
  model: "Model",
  defaultModel: "Default model",
  language: "Language",
  start: "Start",
  uploading: "Uploading…",
  checking: "Checking the file…",
  jobCreated: "Job created",
  refresh: "Refresh",
  noJobs: "No jobs yet.",
  open: "Open transcript",
  created: "Created",
  state: "State",
  progress: "Progress",
  transcript: "Transcript",
  back: "Back",
  speaker: "Speaker",
  channel: "Channel",
  export: "Export",
  exporting: "Exporting…",
  keyName: "Key name",
  scopes: "Scopes",
  createKey: "Create key",
  keyShownOnce: "Copy this key now: it will not be shown again.",
  revoke: "Revoke",
  revoked: "Revoked",
  active: "Active",
  expired: "Expired",
  noKeys: "No keys yet.",
  signedInAs: "Signed in as",
  requestId: "Request id",
  dismiss: "Dismiss",
  "state.1": "Queued",
  "state.2": "Running",
  "state.3": "Succeeded",
  "state.4": "Failed",
  "state.5": "Cancelled",
  "error.unauthenticated": "Your session ended or the credentials are wrong. Please sign in again.",
  "error.permission_denied": "You are not allowed to do this.",
  "error.invalid_argument": "Something you entered is not valid.",
  "error.not_found": "The item was not found.",
  "error.already_exists": "This already exists.",
  "error.resource_exhausted": "You went over a limit. Try again later.",
  "error.failed_precondition": "This cannot be done right now.",
  "error.unavailable": "The service is briefly unavailable. Try again in a moment.",
  "error.deadline_exceeded": "The request took too long.",
  "error.network": "Could not reach the server.",
  "error.other": "Something unexpected went wrong.",
};

export type Language = "ar" | "en";
const dictionaries: Record<Language, Record<Key, string>> = { ar, en };

let current: Language = localStorage.getItem("arabicstt-language") === "en" ? "en" : "ar";

export function language(): Language {
  return current;
}

export function setLanguage(next: Language): void {
  current = next;
  localStorage.setItem("arabicstt-language", next);
  document.documentElement.lang = next;
  document.documentElement.dir = next === "ar" ? "rtl" : "ltr";
}

export function t(key: Key | string): string {
  return (dictionaries[current] as Record<string, string>)[key] ?? (ar as Record<string, string>)[key] ?? key;
}
