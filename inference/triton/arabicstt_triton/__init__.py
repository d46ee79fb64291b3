"""What the Triton Python backends of inference/models/ share, and the algorithms they run.

Each module mirrors a piece of the local sidecar (inference/local/models/*.ts), so that Triton and the
sidecar answer the same request with the same tensors:

    asr_contract       AUDIO/LANGUAGE/TASK/PROMPT/MAX_ALTERNATIVES in, TRANSCRIPT/SEGMENTS/ALTERNATIVES out (asr.ts)
    dtmf_detector      Goertzel keypad-tone detector                                (dtmf-detector.ts, dtmf.ts)
    fbank              Kaldi log-mel filterbank features                            (fbank.ts)
    vad_frames         Silero VAD v5 frame loop                                     (vad.ts)
    whisper_segments   Whisper tokens to segments and words, language codes, DTW    (whisper.ts)
    whisper_recognizer batched Whisper on PyTorch + transformers (needs torch)
    triton_io          requests and responses of the Python backend (pb_utils)
    weights            where model files are looked for

Nothing here needs Triton, PyTorch or onnxruntime to be imported: the modules that use them import
them when a model loads, so the algorithms can be tested with the standard library and numpy alone.
"""
