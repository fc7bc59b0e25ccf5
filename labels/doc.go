// Package labels makes the labels that warehouse staff stick on newly
// provisioned POS terminals, and tells genuine labels from forged ones.
//
// A label carries a QR code holding a signed seal (see Seal and the record
// format in seal.go), a Code 128 barcode of the serial number and readable
// text in Chinese and English. One layout engine (Layout) renders to PDF
// (WritePDF), ZPL for Zebra printers (WriteZPL) and PNG previews (WritePNG).
//
// Signing keys live in a KeyStore directory; verifiers need only the public
// KeySet (keyset.json) and work offline.
package labels
