// Package risk watches scans and lookups of POS terminals for signs of
// fraud — counterfeit units, cloned labels, lookup floods — and keeps the
// review queue those signs feed.
//
// Every scan or lookup is recorded as an Event. A Monitor evaluates its
// rules on each event (see Rule) and turns what they raise (a Flag) into a
// review Case: one open case per rule and subject (usually the serial
// number), with the events that raised it linked as evidence. Merchants'
// complaints join the same queue as cases of rule RuleComplaint. Resolved
// cases stay in history; a new flag after resolution opens a new case.
//
// The package holds no HTTP or SQL: storage is behind Store (implemented by
// internal/sqlite and internal/postgres). The policy layer
// (internal/service) calls Monitor.Record at the end of every scan, verify
// and SN lookup with the facts it holds, and refuses callers under an
// enumeration penalty (Monitor.ThrottledUntil) before any work.
package risk
