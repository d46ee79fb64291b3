// The sample rates the platform works with. A leaf module (no imports) so that the live page's
// browser bundle can take the model rate from here too.

/**
 * The rate the speech models take (the ASR model contract: AUDIO is 16 kHz mono), so the rate
 * every decoder and the batch pipeline deliver.
 */
export const MODEL_SAMPLE_RATE = 16_000;
/** The lowest and highest rate a client may declare (recognition.proto, sample_rate_hz). */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 48000;
