// Package frontend holds the pages people use: templates, styles and the
// small amount of script, all embedded in the binary.
package frontend

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

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
}

// New parses every page once, each with the shared layout.
func New() (*Pages, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &Pages{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "templates/layout.html" {
			continue
		}
		t, err := template.ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		p.pages[n[len("templates/"):len(n)-len(".html")]] = t
	}
	return p, nil
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
