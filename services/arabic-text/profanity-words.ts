// The profanity list that `profanity_filter` masks: data only, one entry per word form.
//
// Source: curated by hand for this platform from the insults and obscenities most common in Arabic call
// and media transcripts (Egyptian, Levantine, Gulf and Maghrebi spellings) and the common English
// obscenities. Words that are also ordinary words ("كلب" dog, "حمار" donkey, "حيوان" animal) are left out
// on purpose: masking them would damage ordinary transcripts more than it would protect anyone.
//
// Maintenance: add a word in its ordinary spelling. Matching folds letter forms with the scoring
// normaliser (normalize.ts: hamza seats, taa marbuta/haa, alef maqsura, diacritics, case), so one spelling
// covers "شرموطة" and "شرموطه"; add dialect spellings that differ in letters ("قحبة" / "كحبة"). The prefixes
// و، ف، ال، وال، يا are stripped before matching, so list the bare word. Multi-word expressions are not
// matched; list their offending word. Reviewed with every release that touches services/arabic-text.
export const PROFANITY_WORDS: readonly string[] = [
  // Arabic
  "شرموطة",
  "شرموط",
  "شراميط",
  "قحبة",
  "كحبة",
  "قحاب",
  "عاهرة",
  "عاهر",
  "منيوك",
  "منيوكة",
  "منيك",
  "متناك",
  "متناكة",
  "نيك",
  "نياكة",
  "كس",
  "كسمك",
  "كسختك",
  "طيز",
  "زب",
  "زبي",
  "خول",
  "عرص",
  "معرص",
  "لوطي",
  "خرا",
  "داعر",
  "داعرة",
  "ديوث",
  // English
  "fuck",
  "fucking",
  "fucked",
  "fucker",
  "motherfucker",
  "shit",
  "bullshit",
  "bitch",
  "bastard",
  "asshole",
  "cunt",
  "dick",
  "whore",
  "slut",
];
