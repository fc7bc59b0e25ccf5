// Package photogen makes realistic photos of POS terminal labels, with
// their truth, to measure barcode reading honestly.
//
// The codes are drawn by zint (the Debian package zint, run as a command),
// not by the library the decoder builds on, and the photo pipeline shares
// no code with the scanner or its other tests. A label carries an SN Code
// 128 and text lines, and, by kind: an IMEI Code 128 (15 digits, never the
// SN); a QR with a URL carrying the SN in its path
// ("https://pos.example.cn/t/SN?m=A920"); a signed posid seal QR (package
// labels); or a Data Matrix with the SN. The label is photographed with a
// perspective warp (corners moved by up to 12 % of the label), rotation,
// defocus (Gaussian σ given at 2048 px and scaled with the frame), sensor
// noise, a glare ellipse, gamma, uneven light and a dark or light textured
// background, and stored as JPEG with 4:2:0 chroma.
//
// Three tiers (Easy, Medium, Hard) span mild to the full ranges of users'
// photos; the hard tier is calibrated to the conditions, never to a
// decoder's score. Photos are deterministic in (seed, tier, index). The
// truth gives each code's text and role, the conditions drawn, and where
// the label and each code lie in the photo (corner points), so that a
// scanner's misses can be told apart: not found, or found and not read.
// TuningSeed is for development; HeldOutSeed is reported beside it and is
// never tuned on.
//
// Used by scan's TestRealisticPhotos (a CI-sized set) and bench/photos.sh
// (the full set, with peer readers).
package photogen
