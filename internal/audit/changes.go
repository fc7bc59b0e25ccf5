package audit

// Actions on merchants' change requests (internal/changes).
const (
	// ActionFileChange: a merchant filed a change request.
	ActionFileChange = "change.file"
	// ActionListChanges and ActionReadChange read requests (which hold
	// registration data); ActionReadChangePhoto reads a request's photo.
	ActionListChanges     = "change.list"
	ActionReadChange      = "change.read"
	ActionReadChangePhoto = "change.photo"
	// ActionApproveChange: a reviewer approved a request; the change it
	// applied has its own ActionUpdateDevice row in the same transaction.
	ActionApproveChange = "change.approve"
	// ActionRejectChange: a reviewer rejected a request, with a note.
	ActionRejectChange = "change.reject"
	// ActionWithdrawChange: the merchant withdrew its request.
	ActionWithdrawChange = "change.withdraw"
)
