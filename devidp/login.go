package devidp

import (
	"bytes"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

const pageStyle = `
body{font-family:system-ui,sans-serif;line-height:1.5;margin:0;padding:1rem;background:#fff;color:#1a1a1a}
main{max-width:32rem;margin:2rem auto}
h1{font-size:1.6rem;margin:0 0 .5rem}
ul{list-style:none;padding:0;margin:1rem 0}
li{margin:.5rem 0}
button{display:block;width:100%;font:inherit;font-size:1.1rem;text-align:left;padding:.75rem 1rem;border:2px solid #1a1a1a;border-radius:.4rem;background:#f4f4f4;color:#1a1a1a;cursor:pointer}
button:hover{background:#e4e4e4}
button:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
.note{color:#444;font-size:.95rem}
`

var pages = template.Must(template.New("layout").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – development sign-in</title>
<style>` + pageStyle + `</style>
</head>
<body>
<main>
<h1>{{.Title}}</h1>
{{if .People -}}
<p>This is the development sign-in page. It is not a real account system: choose one of the demo people to continue.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="authRequestID" value="{{.AuthRequestID}}">
<ul>
{{- range .People}}
<li><button type="submit" name="subject" value="{{.Subject}}">{{.Name}}</button></li>
{{- end}}
</ul>
</form>
<p class="note">Signing in to: {{.ClientID}}</p>
{{- else -}}
<p>{{.Message}}</p>
{{- end}}
</main>
</body>
</html>
`))

type pageData struct {
	Title         string
	Message       string
	Action        string
	AuthRequestID string
	ClientID      string
	People        []Person
}

// writePage renders an HTML page with strict headers. formTargets are extra
// origins a form submission may end up at (the client's redirect URI), since
// browsers apply form-action to the redirects that follow a POST.
func (p *Provider) writePage(w http.ResponseWriter, status int, data pageData, formTargets ...string) {
	var buf bytes.Buffer
	if err := pages.Execute(&buf, data); err != nil {
		p.logger.Error("devidp: rendering page", slog.Any("error", err))
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	formAction := "'self'"
	for _, t := range formTargets {
		formAction += " " + t
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (p *Provider) writeExpired(w http.ResponseWriter) {
	p.writePage(w, http.StatusBadRequest, pageData{
		Title:   "This sign-in link has expired",
		Message: "This sign-in request has expired or has already been used. Go back to the app and start signing in again.",
	})
}

// handleLoginPage shows the picker, or completes sign-in straight away when
// the authorisation request named a known person in login_hint.
func (p *Provider) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	req, err := p.storage.pendingAuthRequest(id)
	if err != nil {
		p.writeExpired(w)
		return
	}
	if _, known := p.storage.byID[req.hint]; known {
		p.completeAndRedirect(w, r, id, req.hint, http.StatusFound)
		return
	}
	if req.promptNone {
		// prompt=none forbids showing a page, and there is no session.
		_ = p.storage.DeleteAuthRequest(r.Context(), id)
		op.AuthRequestError(w, r, req, oidc.ErrLoginRequired(), p.op)
		return
	}
	var targets []string
	if u, err := url.Parse(req.redirectURI); err == nil && u.Scheme+"://"+u.Host != p.origin {
		targets = append(targets, u.Scheme+"://"+u.Host)
	}
	p.writePage(w, http.StatusOK, pageData{
		Title:         "Choose who to sign in as",
		Action:        p.prefix + loginPath,
		AuthRequestID: id,
		ClientID:      req.clientID,
		People:        p.storage.people,
	}, targets...)
}

// handleLoginSubmit completes the auth request named in the form as the
// chosen person. The auth request id is unguessable and the POST only
// completes that request; a cross-origin Origin header is refused as well.
func (p *Provider) handleLoginSubmit(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" && !strings.EqualFold(origin, p.origin) {
		http.Error(w, "Forbidden: cross-origin sign-in form", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Bad request", http.StatusBadRequest)
		return
	}
	id := r.PostForm.Get("authRequestID")
	subject := r.PostForm.Get("subject")
	if _, err := p.storage.pendingAuthRequest(id); err != nil {
		p.writeExpired(w)
		return
	}
	if _, known := p.storage.byID[subject]; !known {
		http.Error(w, "Bad request: unknown person", http.StatusBadRequest)
		return
	}
	p.completeAndRedirect(w, r, id, subject, http.StatusSeeOther)
}

// completeAndRedirect marks the auth request as signed in and sends the
// browser to the op's callback, which redirects on to the client with a code.
func (p *Provider) completeAndRedirect(w http.ResponseWriter, r *http.Request, id, subject string, status int) {
	if err := p.storage.completeAuthRequest(id, subject); err != nil {
		p.writeExpired(w)
		return
	}
	callback := op.AuthCallbackURL(p.op)(op.ContextWithIssuer(r.Context(), p.issuer), id)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, callback, status)
}

func (p *Provider) handleLoggedOut(w http.ResponseWriter, _ *http.Request) {
	p.writePage(w, http.StatusOK, pageData{
		Title:   "You have signed out",
		Message: "You have signed out of the development sign-in. You can close this page.",
	})
}
