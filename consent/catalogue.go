package consent

// LawfulBasis is the UK GDPR Article 6 basis a purpose relies on.
type LawfulBasis string

const (
	BasisConsent         LawfulBasis = "consent"
	BasisPublicTask      LawfulBasis = "public-task"
	BasisVitalInterests  LawfulBasis = "vital-interests"
	BasisLegalObligation LawfulBasis = "legal-obligation"
)

// Category is one kind of information about a young person. Parent, when
// set, is the category that contains it: sharing "contact" shares "address".
type Category struct {
	ID     string
	Parent string
	Name   string // plain words: "your address"
	About  string // one sentence for a young person
}

// Purpose is why a professional wants to see something, from a controlled
// list. Sentence completes "... to ...": "to plan a visit to your home".
type Purpose struct {
	ID       string
	Name     string
	Sentence string
	Basis    LawfulBasis
	// Within names a wider purpose that this one is part of: a grant for
	// the wider purpose covers this one.
	Within string
	// Statutory purposes may be used without consent by a role with a
	// statutory duty (a later rule); none of the consent purposes are.
	Statutory bool
}

// Catalogue is the controlled list of categories and purposes.
type Catalogue struct {
	Categories []Category
	Purposes   []Purpose
}

// DefaultCatalogue is the list Sayso ships with; ids are stable slugs.
func DefaultCatalogue() Catalogue {
	return Catalogue{
		Categories: []Category{
			{ID: "contact", Name: "your contact details", About: "How to reach you: your address and phone number."},
			{ID: "address", Parent: "contact", Name: "your address", About: "Where you live."},
			{ID: "phone", Parent: "contact", Name: "your phone number", About: "The number people can call or text you on."},
			{ID: "education", Name: "your school information", About: "Your school, your learning and any extra help you get there."},
			{ID: "health", Name: "your health information", About: "Your health and any care or treatment you get."},
			{ID: "social-care", Name: "your social care information", About: "What social workers know about you and the help they give."},
			{ID: "youth-work", Name: "your youth work information", About: "What youth workers know about you and what you do together."},
			{ID: "my-story", Name: "your story", About: "What you have written about yourself, in your own words."},
		},
		Purposes: []Purpose{
			{ID: "plan-support", Name: "Plan support", Sentence: "to plan the help you get", Basis: BasisConsent},
			{ID: "home-visit", Name: "Home visit", Sentence: "to plan a visit to your home", Basis: BasisConsent},
			{ID: "education-support", Name: "Education support", Sentence: "to help you with school", Basis: BasisConsent},
			{ID: "health-care", Name: "Health care", Sentence: "to look after your health", Basis: BasisConsent},
		},
	}
}

// Category returns the category with id, or false.
func (c Catalogue) Category(id string) (Category, bool) {
	for _, x := range c.Categories {
		if x.ID == id {
			return x, true
		}
	}
	return Category{}, false
}

// Purpose returns the purpose with id, or false.
func (c Catalogue) Purpose(id string) (Purpose, bool) {
	for _, x := range c.Purposes {
		if x.ID == id {
			return x, true
		}
	}
	return Purpose{}, false
}

// Contains reports whether category outer is, or contains, category inner.
func (c Catalogue) Contains(outer, inner string) bool {
	for id := inner; id != ""; {
		if id == outer {
			return true
		}
		cat, ok := c.Category(id)
		if !ok {
			return false
		}
		id = cat.Parent
	}
	return false
}
