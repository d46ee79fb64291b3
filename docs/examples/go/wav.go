package main

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// wavFile is a WAV file's format and its samples: 16-bit little-endian PCM, channels interleaved.
type wavFile struct {
	sampleRateHz int32
	channels     int32
	pcm          []byte
}

// parseWav reads a RIFF/WAVE file of 16-bit PCM (format 1, or extensible with the PCM subformat).
func parseWav(b []byte) (*wavFile, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("not a WAV file")
	}
	var format *wavFile
	// Chunks follow the 12-byte header; each is id, size, body (padded to an even length).
	for at := 12; at+8 <= len(b); {
		id := string(b[at : at+4])
		size := int(binary.LittleEndian.Uint32(b[at+4 : at+8]))
		body := at + 8
		switch id {
		case "fmt ":
			if body+16 > len(b) {
				return nil, errors.New("short fmt chunk")
			}
			code := binary.LittleEndian.Uint16(b[body:])
			bits := binary.LittleEndian.Uint16(b[body+14:])
			pcm := code == 1 || (code == 0xfffe && body+26 <= len(b) && binary.LittleEndian.Uint16(b[body+24:]) == 1)
			if !pcm || bits != 16 {
				return nil, fmt.Errorf("only 16-bit PCM WAV is read here (format %d, %d bits)", code, bits)
			}
			format = &wavFile{
				channels:     int32(binary.LittleEndian.Uint16(b[body+2:])),
				sampleRateHz: int32(binary.LittleEndian.Uint32(b[body+4:])),
			}
		case "data":
			if format == nil {
				return nil, errors.New("WAV data before its fmt chunk")
			}
			end := body + size
			if end > len(b) {
				end = len(b)
			}
			format.pcm = b[body:end]
			return format, nil
		}
		at = body + size + size%2
	}
	return nil, errors.New("WAV file without a data chunk")
}
