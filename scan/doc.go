// Package scan turns the bytes of a photo of a device label into every
// barcode on it and picks the device serial number among them.
//
// A Scanner decodes JPEG, PNG, GIF and WebP, honours the EXIF orientation of
// JPEG photos and works on the luminance plane only. It looks for QR codes,
// Data Matrix, Code 128, Code 39, EAN-13/8, UPC-A/E and ITF in one call: a
// fast pass on a downscaled copy of large photos finds most codes and the
// regions that look like barcodes; regions left unexplained are read again
// at full resolution, and harder passes (other binarizers, inverted images,
// rotations, locating again with gradients averaged over a few pixels, which
// sees dim, blurred labels under sensor noise) run only while the time
// budget lasts. A 2D region where a reader saw a symbol but decoded none is
// read harder: contrast-stretched and binarized three ways, QR sampled cell
// by cell between its alignment patterns (and read with one damaged finder
// pattern inferred from the others), Data Matrix found by the edges of its
// outline.
//
// All coordinates are in the upright image, after the EXIF orientation has
// been applied, with the origin at the top-left pixel.
//
// A Selector picks the serial number from the decoded codes: a signed posid
// seal wins, then configurable rules (GS1 AI 21, "SN:" prefixes, URL
// patterns, regular expressions per vendor).
//
// The package holds no global mutable state; a Scanner and a Selector are
// safe for concurrent use.
package scan
