package consent

import "time"

// Receipt is a consent record after ISO/IEC TS 27560: what was agreed, by
// whom, with whom, for what, and what just happened to it. Every grant,
// change and stop produces one, signed, for the young person to keep.
type Receipt struct {
	ID          string           `json:"jti"`
	Issuer      string           `json:"iss,omitempty"` // filled by the signer
	IssuedAt    int64            `json:"iat"`
	Schema      string           `json:"schemaVersion"`
	RecordID    string           `json:"recordId"` // the grant
	Principal   ReceiptParty     `json:"principal"`
	Controllers []ReceiptParty   `json:"controllers"`
	Recipient   ReceiptParty     `json:"recipient"`
	Purposes    []ReceiptPurpose `json:"purposes"`
	Categories  []string         `json:"dataCategories"`
	Validity    ReceiptValidity  `json:"validity"`
	Event       ReceiptEvent     `json:"event"`
}

// ReceiptParty names a person or organisation in a receipt.
type ReceiptParty struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
}

// ReceiptPurpose is a purpose with its lawful basis.
type ReceiptPurpose struct {
	ID          string      `json:"id"`
	Description string      `json:"description"`
	LawfulBasis LawfulBasis `json:"lawfulBasis"`
}

// ReceiptValidity is when the consent holds.
type ReceiptValidity struct {
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
}

// ReceiptEvent is what happened: given, modified or withdrawn, and the
// state the consent is in afterwards.
type ReceiptEvent struct {
	Type  string    `json:"type"`
	State string    `json:"state"`
	By    string    `json:"actor"`
	At    time.Time `json:"time"`
}

// ReceiptSigner turns a receipt into a compact JWS anyone can check against
// the published keys.
type ReceiptSigner interface {
	SignReceipt(r Receipt) (string, error)
}
