// The Go example: `stream FILE.wav` (live recognition) or `batch FILE` (a batch job), against the API at
// ARABICSTT_URL (default http://127.0.0.1:50051; https://… for TLS) with the key in ARABICSTT_API_KEY.
//
//	npm run generate:sdk             # writes .tmp/sdk/go, which go.mod's replace points at
//	cd docs/examples/go && ARABICSTT_API_KEY=sk_… go run . stream call.wav [--model NAME]
package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "example.com/arabicstt/sdk/arabicstt/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

const chunkBytes = 256 * 1024

const usage = "usage: example stream FILE.wav [--model NAME] | batch FILE [--model NAME]"

func main() {
	args := os.Args[1:]
	if (len(args) != 2 && len(args) != 4) || (args[0] != "stream" && args[0] != "batch") || (len(args) == 4 && args[2] != "--model") {
		fail(errors.New(usage))
	}
	model := ""
	if len(args) == 4 {
		model = args[3]
	}
	conn, ctx, err := connect()
	if err != nil {
		fail(err)
	}
	defer conn.Close()
	if args[0] == "stream" {
		err = streamFile(ctx, conn, args[1], model)
	} else {
		err = transcribeFile(ctx, conn, args[1], model)
	}
	if err != nil {
		fail(err)
	}
}

// fail prints the error in one line: the server's message names the field or the state at fault.
func fail(err error) {
	if s, ok := status.FromError(err); ok {
		fmt.Fprintf(os.Stderr, "%s: %s\n", s.Code(), s.Message())
	} else {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(1)
}

// connect dials ARABICSTT_URL and returns a context that sends ARABICSTT_API_KEY on every call.
func connect() (*grpc.ClientConn, context.Context, error) {
	apiKey := os.Getenv("ARABICSTT_API_KEY")
	if apiKey == "" {
		return nil, nil, errors.New("set ARABICSTT_API_KEY to an API key (see the README's 'Accounts, tokens and keys')")
	}
	raw := os.Getenv("ARABICSTT_URL")
	if raw == "" {
		raw = "http://127.0.0.1:50051"
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("ARABICSTT_URL: %w", err)
	}
	target := u.Host
	security := grpc.WithInsecure()
	if u.Scheme == "https" {
		if u.Port() == "" {
			target += ":443"
		}
		security = grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12}))
	}
	conn, err := grpc.Dial(target, security)
	if err != nil {
		return nil, nil, err
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+apiKey)
	return conn, ctx, nil
}

// streamFile streams a 16-bit PCM WAV file in real time, 100 ms a message, printing partial and final results.
func streamFile(ctx context.Context, conn *grpc.ClientConn, path, model string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	wav, err := parseWav(b)
	if err != nil {
		return err
	}
	stream, err := v1.NewSpeechServiceClient(conn).StreamingRecognize(ctx)
	if err != nil {
		return err
	}
	// Sending runs beside receiving, so results print while the audio still goes out.
	sent := make(chan error, 1)
	go func() {
		// The first message is the config; the audio follows. Closing the send side asks for the final results.
		config := &v1.RecognitionConfig{
			Encoding: v1.AudioEncoding_AUDIO_ENCODING_LINEAR16, SampleRateHz: wav.sampleRateHz,
			AudioChannelCount: wav.channels, LanguageCode: "ar", Model: model,
		}
		first := &v1.StreamingRecognizeRequest{StreamingRequest: &v1.StreamingRecognizeRequest_StreamingConfig{
			StreamingConfig: &v1.StreamingRecognitionConfig{Config: config, InterimResults: true},
		}}
		if err := stream.Send(first); err != nil {
			sent <- err
			return
		}
		step := int(wav.sampleRateHz/10) * int(wav.channels) * 2
		for at := 0; at < len(wav.pcm); at += step {
			end := at + step
			if end > len(wav.pcm) {
				end = len(wav.pcm)
			}
			chunk := &v1.StreamingRecognizeRequest{StreamingRequest: &v1.StreamingRecognizeRequest_AudioContent{AudioContent: wav.pcm[at:end]}}
			if err := stream.Send(chunk); err != nil {
				sent <- err
				return
			}
			time.Sleep(100 * time.Millisecond) // as a microphone or a phone call would deliver it
		}
		sent <- stream.CloseSend()
	}()
	for {
		res, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for _, r := range res.Results {
			text := ""
			if len(r.Alternatives) > 0 {
				text = r.Alternatives[0].Transcript
			}
			kind := "partial"
			if r.IsFinal {
				kind = "final"
			}
			fmt.Printf("%s: %s\n", kind, text)
		}
	}
	// A Send error surfaces as io.EOF there and the stream's status here: Recv has returned it already.
	if err := <-sent; err != nil && err != io.EOF {
		return err
	}
	return nil
}

// transcribeFile runs UploadMedia, CreateJob, WatchJob to the end, then GetTranscript page by page.
func transcribeFile(ctx context.Context, conn *grpc.ClientConn, path, model string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	media := v1.NewMediaServiceClient(conn)
	upload, err := media.UploadMedia(ctx)
	if err != nil {
		return err
	}
	// Declaring the size and SHA-256 lets the server check the upload end to end.
	sum := sha256.Sum256(data)
	meta := &v1.UploadMediaMetadata{Filename: filepath.Base(path), SizeBytes: int64(len(data)), Sha256: hex.EncodeToString(sum[:])}
	if err := upload.Send(&v1.UploadMediaRequest{Payload: &v1.UploadMediaRequest_Metadata{Metadata: meta}}); err != nil {
		return err
	}
	for at := 0; at < len(data); at += chunkBytes {
		end := at + chunkBytes
		if end > len(data) {
			end = len(data)
		}
		if err := upload.Send(&v1.UploadMediaRequest{Payload: &v1.UploadMediaRequest_Chunk{Chunk: data[at:end]}}); err != nil {
			break // the server ended the stream; CloseAndRecv says why
		}
	}
	uploaded, err := upload.CloseAndRecv()
	if err != nil {
		return err
	}
	item := uploaded.Media
	// A large file may still be probed when the upload answers: wait (at most a minute) until it is ready.
	for tries := 0; item.State == v1.MediaState_MEDIA_STATE_PROCESSING && tries < 120; tries++ {
		time.Sleep(500 * time.Millisecond)
		got, err := media.GetMedia(ctx, &v1.GetMediaRequest{MediaId: item.MediaId})
		if err != nil {
			return err
		}
		item = got.Media
	}
	if item.State != v1.MediaState_MEDIA_STATE_READY {
		return fmt.Errorf("media %s is %s: %s", item.MediaId, item.State, item.GetError().GetMessage())
	}
	fmt.Printf("media: %s (%s, %d channel(s))\n", item.MediaId, item.GetAudioProperties().GetCodec(), item.GetAudioProperties().GetChannelCount())

	jobs := v1.NewJobServiceClient(conn)
	created, err := jobs.CreateJob(ctx, &v1.CreateJobRequest{MediaId: item.MediaId, Config: &v1.RecognitionConfig{LanguageCode: "ar", Model: model}})
	if err != nil {
		return err
	}
	fmt.Printf("job: %s\n", created.Job.JobId)
	watch, err := jobs.WatchJob(ctx, &v1.WatchJobRequest{JobId: created.Job.JobId})
	if err != nil {
		return err
	}
	transcriptID := ""
	// The stream ends once the job has ended.
	for {
		p, err := watch.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		fmt.Printf("job: %s %s %d%%\n", p.State, p.Stage, p.ProgressPercent)
		switch p.State {
		case v1.JobState_JOB_STATE_FAILED, v1.JobState_JOB_STATE_CANCELLED:
			return fmt.Errorf("job %s: %s", p.State, p.GetError().GetMessage())
		case v1.JobState_JOB_STATE_SUCCEEDED:
			transcriptID = p.TranscriptId
		}
	}
	if transcriptID == "" {
		return errors.New("the job's stream ended before it succeeded")
	}

	transcripts := v1.NewTranscriptServiceClient(conn)
	var texts []string
	for pageToken := ""; ; {
		page, err := transcripts.GetTranscript(ctx, &v1.GetTranscriptRequest{TranscriptId: transcriptID, PageToken: pageToken})
		if err != nil {
			return err
		}
		for _, s := range page.Segments {
			who := s.SpeakerLabel
			if who == "" {
				who = fmt.Sprintf("channel %d", s.ChannelTag)
			}
			fmt.Printf("[%.2f–%.2f] %s: %s\n", seconds(s.StartOffset), seconds(s.EndOffset), who, s.Text)
			texts = append(texts, s.Text)
		}
		if pageToken = page.NextPageToken; pageToken == "" {
			break
		}
	}
	fmt.Printf("transcript: %s\n", strings.Join(texts, " "))
	return nil
}

func seconds(d *durationpb.Duration) float64 {
	return d.AsDuration().Seconds()
}
