package labels

import (
	"fmt"
	"math"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
	"github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// QR is an encoded QR code symbol, without its quiet zone.
//
// go-qrcode (v0.0.0-20200617) tries to mix segment modes, but for a seal URL
// its optimiser fails in the version 1–9 class (a coalesced byte segment
// longer than 255 overflows the count field) and it falls back to version 10;
// gozxing's encoder uses one mode for the whole text (byte mode, version 12).
// EncodeQR therefore writes its own two segments — byte mode for the text
// up to a trailing run of digits, numeric mode for the digits — with its
// own Reed–Solomon and mask scoring (qrfast.go), and gozxing's matrix layout. A seal URL with a
// 16-character SN is version 8 at level M (49×49 modules) instead of 10.
type QR struct {
	// Version is the QR version, 1–40.
	Version int
	// Size is the width and height in modules (17 + 4×Version).
	Size int
	dark []bool
}

// Limits of QR encoding.
const (
	// QuietZone is the blank margin around a QR symbol, in modules.
	QuietZone = 4
	// minNumericRun is the shortest trailing digit run worth a numeric segment.
	minNumericRun = 8
)

// Dark reports whether the module at column x, row y is dark.
func (q *QR) Dark(x, y int) bool { return q.dark[y*q.Size+x] }

// EncodeQR encodes text at error correction level M (15% recovery), as a
// byte segment followed by a numeric segment for trailing digits.
func EncodeQR(text string) (*QR, error) {
	ec := decoder.ErrorCorrectionLevel_M
	head, digits := splitDigits(text)
	var version *decoder.Version
	for v := 1; v <= 40; v++ {
		ver, _ := decoder.Version_GetVersionForNumber(v)
		need := segmentBits(head, digits, ver)
		ecb := ver.GetECBlocksForLevel(ec)
		if need <= 8*(ver.GetTotalCodewords()-ecb.GetTotalECCodewords()) {
			version = ver
			break
		}
	}
	if version == nil {
		return nil, fmt.Errorf("%w: %d bytes do not fit a QR code", ErrInvalid, len(text))
	}
	bits := gozxing.NewEmptyBitArray()
	if len(head) > 0 {
		bits.AppendBits(0b0100, 4)
		bits.AppendBits(len(head), countBits(decoder.Mode_BYTE, version))
		for i := 0; i < len(head); i++ {
			bits.AppendBits(int(head[i]), 8)
		}
	}
	if len(digits) > 0 {
		bits.AppendBits(0b0001, 4)
		bits.AppendBits(len(digits), countBits(decoder.Mode_NUMERIC, version))
		for i := 0; i < len(digits); i += 3 {
			n := min(3, len(digits)-i)
			v := 0
			for _, c := range digits[i : i+n] {
				v = v*10 + int(c-'0')
			}
			bits.AppendBits(v, 1+3*n) // 10, 7 or 4 bits
		}
	}
	ecb := version.GetECBlocksForLevel(ec)
	numData := version.GetTotalCodewords() - ecb.GetTotalECCodewords()
	terminate(bits, numData)
	final, err := interleave(bits, version.GetTotalCodewords(), numData, ecb.GetNumBlocks())
	if err != nil {
		return nil, fmt.Errorf("encode QR: %w", err)
	}
	dim := version.GetDimensionForVersion()
	m := encoder.NewByteMatrix(dim, dim)
	if err := encoder.MatrixUtil_buildMatrix(final, ec, version, 0, m); err != nil {
		return nil, fmt.Errorf("encode QR: %w", err)
	}
	if best := bestMask(m, version); best != 0 {
		if dim <= 64 {
			remask(m, version, ec, best)
		} else if err := encoder.MatrixUtil_buildMatrix(final, ec, version, best, m); err != nil {
			return nil, fmt.Errorf("encode QR: %w", err)
		}
	}
	q := &QR{Version: version.GetVersionNumber(), Size: dim, dark: make([]bool, dim*dim)}
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			q.dark[y*dim+x] = m.Get(x, y) == 1
		}
	}
	return q, nil
}

// splitDigits splits text before its trailing run of digits, if that run is
// long enough to pay for a second segment header.
func splitDigits(text string) (head, digits string) {
	i := len(text)
	for i > 0 && text[i-1] >= '0' && text[i-1] <= '9' {
		i--
	}
	if len(text)-i < minNumericRun {
		return text, ""
	}
	return text[:i], text[i:]
}

func countBits(mode *decoder.Mode, v *decoder.Version) int {
	return mode.GetCharacterCountBits(v)
}

func segmentBits(head, digits string, v *decoder.Version) int {
	n := 0
	if len(head) > 0 {
		if len(head) >= 1<<countBits(decoder.Mode_BYTE, v) {
			return math.MaxInt
		}
		n += 4 + countBits(decoder.Mode_BYTE, v) + 8*len(head)
	}
	if len(digits) > 0 {
		if len(digits) >= 1<<countBits(decoder.Mode_NUMERIC, v) {
			return math.MaxInt
		}
		n += 4 + countBits(decoder.Mode_NUMERIC, v) + 10*(len(digits)/3)
		if r := len(digits) % 3; r > 0 {
			n += 1 + 3*r
		}
	}
	return n
}

// terminate adds the terminator, pads to a byte and fills with 0xEC 0x11.
func terminate(bits *gozxing.BitArray, numDataBytes int) {
	capacity := 8 * numDataBytes
	for i := 0; i < 4 && bits.GetSize() < capacity; i++ {
		bits.AppendBit(false)
	}
	for bits.GetSize()%8 != 0 {
		bits.AppendBit(false)
	}
	for i := 0; bits.GetSize() < capacity; i++ {
		pad := 0xEC
		if i%2 == 1 {
			pad = 0x11
		}
		bits.AppendBits(pad, 8)
	}
}

// interleave splits the data into Reed–Solomon blocks, adds the error
// correction bytes and interleaves them (ISO/IEC 18004 §7.6).
func interleave(bits *gozxing.BitArray, numTotal, numData, numBlocks int) (*gozxing.BitArray, error) {
	group2 := numTotal % numBlocks
	group1 := numBlocks - group2
	totalIn1 := numTotal / numBlocks
	dataIn1 := numData / numBlocks
	ecPerBlock := totalIn1 - dataIn1
	data := make([][]byte, numBlocks)
	ecc := make([][]byte, numBlocks)
	off := 0
	for i := range numBlocks {
		n := dataIn1
		if i >= group1 {
			n++
		}
		data[i] = make([]byte, n)
		bits.ToBytes(8*off, data[i], 0, n)
		off += n
		ecc[i] = rsEncode(data[i], ecPerBlock)
	}
	out := gozxing.NewEmptyBitArray()
	for j := 0; j <= dataIn1; j++ {
		for i := range numBlocks {
			if j < len(data[i]) {
				out.AppendBits(int(data[i][j]), 8)
			}
		}
	}
	for j := range ecPerBlock {
		for i := range numBlocks {
			out.AppendBits(int(ecc[i][j]), 8)
		}
	}
	if out.GetSizeInBytes() != numTotal {
		return nil, fmt.Errorf("interleave: %d bytes, want %d", out.GetSizeInBytes(), numTotal)
	}
	return out, nil
}
