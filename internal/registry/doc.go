// Package registry holds posid's domain: devices (POS terminals) by serial
// number, their network-access registration, the change history, and the
// Store interface that the database packages implement. It imports neither
// HTTP nor SQL packages.
package registry
