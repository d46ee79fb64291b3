#!/usr/bin/env python3
"""The Python example: `stream FILE.wav` (live recognition) or `batch FILE` (a batch job).

Uses the SDK that proto/tools/generate-sdk.sh writes (grpcio and protobuf as the runtime):

    npm run generate:sdk                      # writes .tmp/sdk/python
    PYTHONPATH=.tmp/sdk/python ARABICSTT_API_KEY=sk_... \\
        python3 docs/examples/python/example.py stream call.wav [--model NAME]

ARABICSTT_URL is the gRPC listener, http://127.0.0.1:50051 by default (https://... for TLS).
"""
import hashlib
import os
import sys
import time
import wave
from urllib.parse import urlparse

import grpc

from arabicstt.v1 import job_pb2, job_pb2_grpc, media_pb2, media_pb2_grpc, recognition_pb2
from arabicstt.v1 import speech_pb2, speech_pb2_grpc, transcript_pb2, transcript_pb2_grpc

CHUNK_BYTES = 256 * 1024
USAGE = "usage: example.py stream FILE.wav [--model NAME] | batch FILE [--model NAME]"


def channel_from_env():
    """A channel to ARABICSTT_URL and the call metadata carrying ARABICSTT_API_KEY."""
    api_key = os.environ.get("ARABICSTT_API_KEY")
    if not api_key:
        raise SystemExit("set ARABICSTT_API_KEY to an API key (see the README's 'Accounts, tokens and keys')")
    url = urlparse(os.environ.get("ARABICSTT_URL") or "http://127.0.0.1:50051")
    target = f"{url.hostname}:{url.port or (443 if url.scheme == 'https' else 80)}"
    if url.scheme == "https":
        channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
    else:
        channel = grpc.insecure_channel(target)
    return channel, (("authorization", f"Bearer {api_key}"),)


def stream_file(channel, metadata, path, model):
    """Streams a 16-bit PCM WAV file in real time, 100 ms a message; prints partial and final results."""
    with wave.open(path, "rb") as wav:
        if wav.getsampwidth() != 2:
            raise SystemExit("only 16-bit PCM WAV is read here")
        rate, channels = wav.getframerate(), wav.getnchannels()
        pcm = wav.readframes(wav.getnframes())
    step = rate // 10 * channels * 2

    def requests():
        # The first message is the config; the audio follows. Ending the stream asks for the final results.
        config = recognition_pb2.RecognitionConfig(
            encoding=recognition_pb2.AUDIO_ENCODING_LINEAR16,
            sample_rate_hz=rate,
            audio_channel_count=channels,
            language_code="ar",
            model=model,
        )
        yield speech_pb2.StreamingRecognizeRequest(
            streaming_config=recognition_pb2.StreamingRecognitionConfig(config=config, interim_results=True)
        )
        for at in range(0, len(pcm), step):
            yield speech_pb2.StreamingRecognizeRequest(audio_content=pcm[at : at + step])
            time.sleep(0.1)  # as a microphone or a phone call would deliver it

    speech = speech_pb2_grpc.SpeechServiceStub(channel)
    for response in speech.StreamingRecognize(requests(), metadata=metadata):
        for result in response.results:
            text = result.alternatives[0].transcript if result.alternatives else ""
            print(f"{'final' if result.is_final else 'partial'}: {text}", flush=True)


def transcribe_file(channel, metadata, path, model):
    """UploadMedia, CreateJob, WatchJob to the end, then GetTranscript page by page."""
    with open(path, "rb") as f:
        data = f.read()

    def upload():
        # Declaring the size and SHA-256 lets the server check the upload end to end.
        meta = media_pb2.UploadMediaMetadata(
            filename=os.path.basename(path), size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
        )
        yield media_pb2.UploadMediaRequest(metadata=meta)
        for at in range(0, len(data), CHUNK_BYTES):
            yield media_pb2.UploadMediaRequest(chunk=data[at : at + CHUNK_BYTES])

    media = media_pb2_grpc.MediaServiceStub(channel)
    item = media.UploadMedia(upload(), metadata=metadata).media
    # A large file may still be probed when the upload answers: wait (at most a minute) until it is ready.
    for _ in range(120):
        if item.state != media_pb2.MEDIA_STATE_PROCESSING:
            break
        time.sleep(0.5)
        item = media.GetMedia(media_pb2.GetMediaRequest(media_id=item.media_id), metadata=metadata).media
    if item.state != media_pb2.MEDIA_STATE_READY:
        raise SystemExit(f"media {item.media_id} is {media_pb2.MediaState.Name(item.state)}: {item.error.message}")
    print(f"media: {item.media_id} ({item.audio_properties.codec}, {item.audio_properties.channel_count} channel(s))")

    jobs = job_pb2_grpc.JobServiceStub(channel)
    config = recognition_pb2.RecognitionConfig(language_code="ar", model=model)
    job = jobs.CreateJob(job_pb2.CreateJobRequest(media_id=item.media_id, config=config), metadata=metadata).job
    print(f"job: {job.job_id}")
    transcript_id = ""
    # The stream ends once the job has ended.
    for progress in jobs.WatchJob(job_pb2.WatchJobRequest(job_id=job.job_id), metadata=metadata):
        state = job_pb2.JobState.Name(progress.state)
        print(f"job: {state} {job_pb2.JobStage.Name(progress.stage)} {progress.progress_percent}%", flush=True)
        if progress.state in (job_pb2.JOB_STATE_FAILED, job_pb2.JOB_STATE_CANCELLED):
            raise SystemExit(f"job {state}: {progress.error.message}")
        if progress.state == job_pb2.JOB_STATE_SUCCEEDED:
            transcript_id = progress.transcript_id
    if not transcript_id:
        raise SystemExit("the job's stream ended before it succeeded")

    transcripts = transcript_pb2_grpc.TranscriptServiceStub(channel)
    texts, page_token = [], ""
    while True:
        page = transcripts.GetTranscript(
            transcript_pb2.GetTranscriptRequest(transcript_id=transcript_id, page_token=page_token), metadata=metadata
        )
        for s in page.segments:
            start = s.start_offset.seconds + s.start_offset.nanos / 1e9
            end = s.end_offset.seconds + s.end_offset.nanos / 1e9
            print(f"[{start:.2f}–{end:.2f}] {s.speaker_label or f'channel {s.channel_tag}'}: {s.text}")
            texts.append(s.text)
        page_token = page.next_page_token
        if not page_token:
            break
    print(f"transcript: {' '.join(texts)}")


def main(args):
    if len(args) not in (2, 4) or args[0] not in ("stream", "batch") or (len(args) == 4 and args[2] != "--model"):
        raise SystemExit(USAGE)
    command, path, model = args[0], args[1], args[3] if len(args) == 4 else ""
    channel, metadata = channel_from_env()
    try:
        (stream_file if command == "stream" else transcribe_file)(channel, metadata, path, model)
    except grpc.RpcError as err:
        # The server's message names the field or the state at fault; the request id is what to quote.
        request_id = dict(err.trailing_metadata() or ()).get("x-request-id") or dict(err.initial_metadata() or ()).get("x-request-id")
        raise SystemExit(f"{err.code().name}: {err.details()}" + (f" (request id {request_id})" if request_id else ""))
    finally:
        channel.close()


if __name__ == "__main__":
    main(sys.argv[1:])
