// Package frontend holds the pages people use: templates, styles and the
// small amount of script, all embedded in the binary.
package frontend

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// BannedPhrases is the list of words young people's pages must never use,
// one a line; "#" starts a comment. A test reads every young person's page
// against it.
//
//go:embed banned-phrases.txt
var BannedPhrases string

// Pages renders the page templates.
type Pages struct {
	pages map[string]*template.Template
}

// Page is what every template receives.
type Page struct {
	Title    string
	SignedIn bool
	Name     string // the signed-in person's name
	Data     any

	// CSRF is the anti-forgery token every form that changes something carries.
	CSRF string
	// Nav is the navigation of the area the page belongs to.
	Nav []NavItem
	// ActingFor names the young person a family member is using Sayso
	// for; every page then says so in a banner.
	ActingFor string
	// SwitchHref, if set, is where someone acting for several young people
	// chooses another.
	SwitchHref string
	// Exit shows an "exit this page" button: the page is sensitive.
	Exit bool
	// Flash is a success message from the change just made.
	Flash string
	// Errors, when there are any, start the title with "Error:" and fill
	// the error summary.
	Errors []FieldError
	// IdleSeconds is how long a session lasts without activity, for the
	// script that warns before signing out.
	IdleSeconds int
}

// NavItem is one link of an area's navigation.
type NavItem struct {
	Href, Label string
	Current     bool
}

// FieldError is one problem with what was typed: Field is the id of the
// input it is about, so the summary can link to it.
type FieldError struct {
	Field, Message string
}

// ErrorFor returns the message for field, or "".
func (p Page) ErrorFor(field string) string {
	for _, e := range p.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

var london = func() *time.Location {
	if loc, err := time.LoadLocation("Europe/London"); err == nil {
		return loc
	}
	return time.UTC
}()

// Date is "3 March 2026" in UK time.
func Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(london).Format("2 January 2006")
}

// DateTime is "3 March 2026 at 9:05am" in UK time.
func DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.In(london)
	return t.Format("2 January 2006") + " at " + strings.ToLower(t.Format("3:04PM"))
}

var funcs = template.FuncMap{
	"date":     Date,
	"datetime": DateTime,
	"has":      func(xs []string, x string) bool { return slices.Contains(xs, x) },
	"join":     strings.Join,
	"add":      func(a, b int) int { return a + b },
	"upperFirst": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

// New parses every page once, each with the shared layout and partials.
func New() (*Pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" || n == "templates/partials.html" {
			continue
		}
		t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", n)
		if err != nil {
			return nil, err
		}
		p.pages[n[len("templates/"):len(n)-len(".html")]] = t
	}
	return p, nil
}

// Has reports whether there is a page called name.
func (p *Pages) Has(name string) bool {
	_, ok := p.pages[name]
	return ok
}

// Render writes page name with status. Rendering happens into a buffer first
// so a template error never sends half a page.
func (p *Pages) Render(c echo.Context, status int, name string, page Page) error {
	t, ok := p.pages[name]
	if !ok {
		return echo.NewHTTPError(http.StatusInternalServerError, "no page "+name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", page); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// Static serves the embedded styles and scripts.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}
