// Package sayso holds what belongs to the whole project: the API contract.
package sayso

import _ "embed"

// OpenAPI is openapi.yaml, the contract every JSON route keeps.
//
//go:embed openapi.yaml
var OpenAPI []byte
