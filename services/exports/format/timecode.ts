// Times as the formats write them. Everything is computed on whole milliseconds, so that 59.9996 s
// carries into the minute instead of printing "00:00:59,1000".

/** Seconds to whole milliseconds, never negative. */
export function toMilliseconds(seconds: number): number {
  return Math.max(0, Math.round(seconds * 1000));
}

/** "hh:mm:ss" of the second a paragraph starts in (rounded down, so a player seeking to it hears the start). */
export function formatClock(seconds: number): string {
  const { hours, minutes, wholeSeconds } = split(toMilliseconds(seconds));
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(wholeSeconds, 2)}`;
}

/** "HH:MM:SS,mmm" (SubRip) or "HH:MM:SS.mmm" (WebVTT); hours take more digits past 99. */
export function formatCueTime(milliseconds: number, decimalSeparator: "," | "."): string {
  const { hours, minutes, wholeSeconds, millis } = split(milliseconds);
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(wholeSeconds, 2)}${decimalSeparator}${pad(millis, 3)}`;
}

function split(milliseconds: number) {
  const totalSeconds = Math.floor(milliseconds / 1000);
  return {
    hours: Math.floor(totalSeconds / 3600),
    minutes: Math.floor(totalSeconds / 60) % 60,
    wholeSeconds: totalSeconds % 60,
    millis: milliseconds % 1000,
  };
}

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, "0");
}
