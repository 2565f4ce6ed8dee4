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
	// Statutory purposes may be used without consent, only by a role the
	// operator marks as holding a statutory duty (statutory.go).
	Statutory bool
}

// Condition is a legal condition a statutory access may rely on, from a
// controlled list, so the DPO reviews named law rather than free text.
type Condition struct {
	ID   string
	Name string
}

// Catalogue is the controlled list of categories, purposes and the legal
// conditions for statutory access.
type Catalogue struct {
	Categories []Category
	Purposes   []Purpose
	Conditions []Condition
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
			{ID: "story-about-me", Parent: "my-story", Name: "your story: about me", About: "Who you are, in your own words."},
			{ID: "story-what-helps", Parent: "my-story", Name: "your story: what helps", About: "What helps you when things are hard."},
			{ID: "story-what-doesnt-help", Parent: "my-story", Name: "your story: what does not help", About: "What makes things worse for you."},
			{ID: "story-dont-ask", Parent: "my-story", Name: "your story: please do not ask me again", About: "Things you do not want to be asked about again."},
			{ID: "story-goals", Parent: "my-story", Name: "your story: my goals", About: "What you want to do or get better at."},
			{ID: "story-people", Parent: "my-story", Name: "your story: people who matter", About: "The people who matter to you."},
		},
		Purposes: []Purpose{
			{ID: "plan-support", Name: "Plan support", Sentence: "to plan the help you get", Basis: BasisConsent},
			{ID: "home-visit", Name: "Home visit", Sentence: "to plan a visit to your home", Basis: BasisConsent},
			{ID: "education-support", Name: "Education support", Sentence: "to help you with school", Basis: BasisConsent},
			{ID: "health-care", Name: "Health care", Sentence: "to look after your health", Basis: BasisConsent},
			{ID: "child-protection-enquiry", Name: "Child protection enquiry", Sentence: "to check that you are safe", Basis: BasisPublicTask, Statutory: true},
		},
		Conditions: []Condition{
			{ID: "dpa2018-sch1-para18", Name: "Data Protection Act 2018, Schedule 1, paragraph 18: safeguarding of children and of individuals at risk"},
			{ID: "children-act-1989-s47", Name: "Children Act 1989, section 47: duty to make enquiries about a child's safety"},
			{ID: "children-act-2004-s11", Name: "Children Act 2004, section 11: duty to safeguard and promote the welfare of children"},
			{ID: "dpa2018-sch1-para6", Name: "Data Protection Act 2018, Schedule 1, paragraph 6: statutory purposes"},
		},
	}
}

// Condition returns the lawful condition with id, or false.
func (c Catalogue) Condition(id string) (Condition, bool) {
	for _, x := range c.Conditions {
		if x.ID == id {
			return x, true
		}
	}
	return Condition{}, false
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
