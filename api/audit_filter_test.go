package api

import "posid/internal/audit"

func auditFilter(action string) audit.Filter { return audit.Filter{Action: action} }
