// Package labels makes the labels that warehouse staff stick on newly
// provisioned POS terminals, and tells genuine labels from forged ones.
//
// A label carries a QR code holding a signed seal (see Seal for the record
// and URL format), a Code 128 barcode of the serial number and readable text
// in Chinese and English. One layout engine (NewLayout) renders to PDF
// (WritePDF), ZPL for Zebra printers (WriteZPL) and PNG previews (WritePNG);
// labels stream in from a Source (SliceSource, NewCSVSource, or any other
// such as a registry batch) and Sealed signs them on the way.
//
// Signing keys live in a KeyStore directory; verifiers need only the public
// KeySet (keyset.json) and work offline:
//
//	st := labels.OpenKeyStore(dir)
//	sg, err := st.Signer(ctx, "https://verify.posid.example")
//	url, err := sg.Sign(labels.Seal{SN: sn, Model: m, Supplier: s, Date: day})
//	ks, err := labels.LoadKeySet(ctx, filepath.Join(dir, labels.KeySetFile))
//	v := ks.Verify(url) // v.Verdict: genuine, forged, revoked or malformed
//	sn, ok := labels.SealSN(url) // parse only, for the scanner's SN selector
package labels
