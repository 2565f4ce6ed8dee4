package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"sayso"
)

func (s *Server) handleOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", sayso.OpenAPI)
}

// JSON shapes, as openapi.yaml describes them.

type roleJSON struct {
	Kind             string `json:"kind"`
	OrganisationID   string `json:"organisationId,omitempty"`
	OrganisationName string `json:"organisationName,omitempty"`
	Role             string `json:"role,omitempty"`
}

type actsForJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	Relationship string `json:"relationship"`
}

type meJSON struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	Roles   []roleJSON    `json:"roles"`
	ActsFor []actsForJSON `json:"actsFor"`
}

func (s *Server) handleMe(c echo.Context) error {
	me, err := s.svc.Me(c.Request().Context(), personID(c))
	if err != nil {
		return err
	}
	out := meJSON{ID: me.Person.ID, Name: me.Person.Name, Roles: []roleJSON{}, ActsFor: []actsForJSON{}}
	for _, r := range me.Roles {
		out.Roles = append(out.Roles, roleJSON{Kind: string(r.Kind), OrganisationID: r.Organisation.ID, OrganisationName: r.Organisation.Name, Role: string(r.Role)})
	}
	for _, a := range me.ActsFor {
		out.ActsFor = append(out.ActsFor, actsForJSON{ID: a.YoungPerson.ID, Name: a.YoungPerson.Name, Relationship: a.Relationship})
	}
	return c.JSON(http.StatusOK, out)
}
