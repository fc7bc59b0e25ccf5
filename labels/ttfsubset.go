package labels

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// subsetTrueType returns a copy of the TrueType font ttf that keeps only the
// outlines of glyphs gids (plus glyph 0 and the components of composite
// glyphs); other glyphs become empty. Glyph ids are unchanged, so a PDF can
// use CIDToGIDMap /Identity. Hinting tables are kept as they are.
func subsetTrueType(ttf []byte, gids map[uint16]bool) ([]byte, error) {
	tables, err := ttTables(ttf)
	if err != nil {
		return nil, err
	}
	head, loca, glyf, maxp := tables["head"], tables["loca"], tables["glyf"], tables["maxp"]
	if len(head) < 54 || len(maxp) < 6 || loca == nil || glyf == nil {
		return nil, fmt.Errorf("subset font: missing head, maxp, loca or glyf")
	}
	numGlyphs := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(i int) int {
		if long {
			return int(binary.BigEndian.Uint32(loca[4*i:]))
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*i:]))
	}
	if need := (numGlyphs + 1) * map[bool]int{true: 4, false: 2}[long]; len(loca) < need {
		return nil, fmt.Errorf("subset font: loca too short")
	}
	glyph := func(g int) []byte {
		a, b := offset(g), offset(g+1)
		if a > b || b > len(glyf) {
			return nil
		}
		return glyf[a:b]
	}
	keep := map[int]bool{0: true}
	var todo []int
	for g := range gids {
		if int(g) < numGlyphs {
			todo = append(todo, int(g))
		}
	}
	for len(todo) > 0 {
		g := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if keep[g] && g != 0 {
			continue
		}
		keep[g] = true
		for _, c := range components(glyph(g)) {
			if c < numGlyphs && !keep[c] {
				todo = append(todo, c)
			}
		}
	}
	newGlyf := make([]byte, 0, 64*len(keep))
	newLoca := make([]byte, 4*(numGlyphs+1))
	for g := 0; g < numGlyphs; g++ {
		binary.BigEndian.PutUint32(newLoca[4*g:], uint32(len(newGlyf)))
		if keep[g] {
			newGlyf = append(newGlyf, glyph(g)...)
			for len(newGlyf)%4 != 0 {
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	binary.BigEndian.PutUint32(newLoca[4*numGlyphs:], uint32(len(newGlyf)))
	newHead := append([]byte(nil), head...)
	binary.BigEndian.PutUint16(newHead[50:], 1)
	binary.BigEndian.PutUint32(newHead[8:], 0) // checkSumAdjustment
	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, tag := range []string{"hhea", "hmtx", "maxp", "cmap", "cvt ", "fpgm", "prep", "OS/2", "post", "name"} {
		if t, ok := tables[tag]; ok {
			out[tag] = t
		}
	}
	return ttWrite(out), nil
}

// components returns the glyph ids a composite glyph refers to.
func components(g []byte) []int {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil
	}
	var cs []int
	for p := 10; p+4 <= len(g); {
		flags := binary.BigEndian.Uint16(g[p:])
		cs = append(cs, int(binary.BigEndian.Uint16(g[p+2:])))
		p += 4
		if flags&0x0001 != 0 { // ARG_1_AND_2_ARE_WORDS
			p += 4
		} else {
			p += 2
		}
		switch {
		case flags&0x0008 != 0: // WE_HAVE_A_SCALE
			p += 2
		case flags&0x0040 != 0: // WE_HAVE_AN_X_AND_Y_SCALE
			p += 4
		case flags&0x0080 != 0: // WE_HAVE_A_TWO_BY_TWO
			p += 8
		}
		if flags&0x0020 == 0 { // MORE_COMPONENTS
			break
		}
	}
	return cs
}

// ttTables splits a TrueType font into its tables by tag.
func ttTables(ttf []byte) (map[string][]byte, error) {
	if len(ttf) < 12 {
		return nil, fmt.Errorf("font: too short")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if len(ttf) < 12+16*n {
		return nil, fmt.Errorf("font: truncated table directory")
	}
	t := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		r := ttf[12+16*i:]
		off, l := int(binary.BigEndian.Uint32(r[8:])), int(binary.BigEndian.Uint32(r[12:]))
		if off < 0 || l < 0 || off+l > len(ttf) {
			return nil, fmt.Errorf("font: table %q out of range", r[:4])
		}
		t[string(r[:4])] = ttf[off : off+l]
	}
	return t, nil
}

// ttWrite assembles tables into a TrueType font file with checksums.
func ttWrite(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for tag := range tables {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	n := len(tags)
	entrySelector := 0
	for 1<<(entrySelector+1) <= n {
		entrySelector++
	}
	size := 12 + 16*n
	for _, tag := range tags {
		size += (len(tables[tag]) + 3) &^ 3
	}
	out := make([]byte, size)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	binary.BigEndian.PutUint16(out[6:], uint16(16<<entrySelector))
	binary.BigEndian.PutUint16(out[8:], uint16(entrySelector))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16<<entrySelector))
	off := 12 + 16*n
	for i, tag := range tags {
		t := tables[tag]
		r := out[12+16*i:]
		copy(r, tag)
		binary.BigEndian.PutUint32(r[4:], ttChecksum(t))
		binary.BigEndian.PutUint32(r[8:], uint32(off))
		binary.BigEndian.PutUint32(r[12:], uint32(len(t)))
		copy(out[off:], t)
		off += (len(t) + 3) &^ 3
	}
	return out
}

func ttChecksum(b []byte) uint32 {
	var s uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		s += binary.BigEndian.Uint32(w[:])
	}
	return s
}
