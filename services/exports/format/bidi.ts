// Right-to-left text in formats that carry no direction of their own (subtitles).
//
// A subtitle line is shown as a paragraph on its own, and players disagree on its base direction: some
// take it from the first strong letter, some always lay it out left to right. Either way the neutral
// characters at the ends of an Arabic line go wrong: in a left-to-right line the final "." or "؟" of
// "كيف حالك؟" is drawn at the right, where an Arabic reader starts, and a line that starts with a Latin
// name or a number becomes a left-to-right line. A U+200F RIGHT-TO-LEFT MARK at each end of the line fixes
// both: the leading mark makes the line right-to-left for first-strong players, and the marks are strong
// right-to-left characters on both sides of the end punctuation, so it stays at the reading end even in a
// left-to-right line. The marks are invisible and zero-width; players that ignore bidi show the text as
// they would without them.
//
// Lines with no right-to-left letter are left alone: wrapping an English "OK." would move its full stop to
// the left of "OK".

export const RIGHT_TO_LEFT_MARK = "\u200f";

// Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, Arabic Extended and the presentation forms
// (strong right-to-left letters in the Basic Multilingual Plane).
const RIGHT_TO_LEFT_LETTER = /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]/u;

export function hasRightToLeftText(text: string): boolean {
  return RIGHT_TO_LEFT_LETTER.test(text);
}

/** The line between two RIGHT-TO-LEFT MARKs when it holds right-to-left text; otherwise as it is. */
export function markRightToLeftLine(line: string): string {
  return hasRightToLeftText(line) ? `${RIGHT_TO_LEFT_MARK}${line}${RIGHT_TO_LEFT_MARK}` : line;
}
