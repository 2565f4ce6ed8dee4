package consent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// StoryCategory is the category that holds every section of a young
// person's story; each section is a category inside it, shared like any other.
const StoryCategory = "my-story"

const maxStoryLength = 5000

// A story section's versions are holdings with no organisation: the young
// person holds them. Their ids end in the version number, and holdings are
// never rewritten, so every earlier version is kept.
func storyHoldingID(ypID, section string, version int) string {
	return fmt.Sprintf("story|%s|%s|%d", ypID, section, version)
}

func isStory(h Holding) bool { return h.OrganisationID == "" && strings.HasPrefix(h.ID, "story|") }

func storyVersion(h Holding) int {
	n, _ := strconv.Atoi(h.ID[strings.LastIndexByte(h.ID, '|')+1:])
	return n
}

// StorySections lists the story's sections, in the order they are asked.
func (s *Service) StorySections() []Category {
	var out []Category
	for _, c := range s.catalogue.Categories {
		if c.Parent == StoryCategory {
			out = append(out, c)
		}
	}
	return out
}

func (s *Service) isSection(id string) bool {
	c, ok := s.catalogue.Category(id)
	return ok && c.Parent == StoryCategory
}

// StoryVersion is one version of a section, in the young person's words.
type StoryVersion struct {
	Version   int
	Text      string
	WrittenAt time.Time
}

// StorySection is one section with every version, newest last, and who read it.
type StorySection struct {
	Category Category
	Versions []StoryVersion
	Reads    []FeedItem
}

// Latest is the newest version, or the zero version if none is written.
func (s StorySection) Latest() StoryVersion {
	if len(s.Versions) == 0 {
		return StoryVersion{}
	}
	return s.Versions[len(s.Versions)-1]
}

// WriteStory saves a new version of one section. Only the young person
// writes their story. Errors: ErrNotFound, ErrInvalid, ErrConflict (another
// version was saved at the same moment: try again).
func (s *Service) WriteStory(ctx context.Context, actorID, ypID, section, text string) (StoryVersion, error) {
	if actorID != ypID {
		return StoryVersion{}, ErrNotFound
	}
	if _, err := s.accessTo(ctx, actorID, ypID); err != nil {
		return StoryVersion{}, err
	}
	if !s.isSection(section) {
		return StoryVersion{}, ErrNotFound
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return StoryVersion{}, Invalid("text", "write something, or leave this part for now")
	}
	if len(text) > maxStoryLength {
		return StoryVersion{}, Invalid("text", "is too long: please keep it under 5,000 letters")
	}
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return StoryVersion{}, err
	}
	version := 1
	for _, h := range hs {
		if isStory(h) && h.Category == section && storyVersion(h) >= version {
			version = storyVersion(h) + 1
		}
	}
	now := Millis(s.now())
	h := Holding{ID: storyHoldingID(ypID, section, version), YoungPersonID: ypID, Category: section, Since: now,
		System: "your own words", Summary: text}
	if err := s.store.CreateHolding(ctx, h); err != nil {
		return StoryVersion{}, err
	}
	return StoryVersion{Version: version, Text: text, WrittenAt: now}, nil
}

// Story returns every section of ypID's story with its versions and who read
// it, for the young person and family members they let see it.
func (s *Service) Story(ctx context.Context, actorID, ypID string) ([]StorySection, error) {
	a, err := s.accessTo(ctx, actorID, ypID)
	if err != nil {
		return nil, err
	}
	if !a.sees(s, StoryCategory) {
		return nil, ErrNotFound
	}
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return nil, err
	}
	feed, err := s.Feed(ctx, actorID, ypID, -1, 200)
	if err != nil {
		return nil, err
	}
	var out []StorySection
	for _, c := range s.StorySections() {
		sec := StorySection{Category: c}
		for _, h := range hs {
			if isStory(h) && h.Category == c.ID {
				sec.Versions = append(sec.Versions, StoryVersion{Version: storyVersion(h), Text: h.Summary, WrittenAt: h.Since})
			}
		}
		slices.SortFunc(sec.Versions, func(a, b StoryVersion) int { return a.Version - b.Version })
		for _, f := range feed {
			if f.Disclosure.Category == c.ID || f.Disclosure.Category == StoryCategory {
				sec.Reads = append(sec.Reads, f)
			}
		}
		out = append(out, sec)
	}
	return out, nil
}

// storyRecords returns the story sections a read of category shows: the
// version the grant pins for a section, else the latest.
func (s *Service) storyRecords(ctx context.Context, ypID, category, grantID string, hs []Holding) ([]Record, error) {
	if !s.catalogue.Contains(StoryCategory, category) && !s.catalogue.Contains(category, StoryCategory) {
		return nil, nil
	}
	pinned := map[string]int{}
	if grantID != "" {
		pol, err := s.store.GetPolicy(ctx, ypID)
		if err != nil {
			return nil, err
		}
		for _, g := range pol.Grants {
			if g.ID == grantID && g.StoryVersion > 0 {
				pinned[g.Category] = g.StoryVersion
			}
		}
	}
	best := map[string]Holding{}
	for _, h := range hs {
		if !isStory(h) || !s.catalogue.Contains(category, h.Category) {
			continue
		}
		v, want := storyVersion(h), pinned[h.Category]
		cur, ok := best[h.Category]
		switch {
		case want > 0 && v == want:
			best[h.Category] = h
		case want > 0:
		case !ok || v > storyVersion(cur):
			best[h.Category] = h
		}
	}
	var out []Record
	for _, c := range s.StorySections() {
		if h, ok := best[c.ID]; ok {
			out = append(out, Record{Holding: h, Version: storyVersion(h)})
		}
	}
	return out, nil
}

// ChooseStoryVersion pins which version of a story section a professional
// sees under one sharing; 0 means always the latest. Errors: ErrNotFound,
// ErrForbidden, ErrInvalid, ErrConflict (the sharing has ended).
func (s *Service) ChooseStoryVersion(ctx context.Context, actorID, ypID, grantID string, version int) (Grant, error) {
	a, err := s.mayDecide(ctx, actorID, ypID)
	if err != nil {
		return Grant{}, err
	}
	hs, err := s.store.HoldingsOf(ctx, ypID)
	if err != nil {
		return Grant{}, err
	}
	now := Millis(s.now())
	var changed Grant
	_, err = s.updatePolicy(ctx, ypID, func(p *Policy) error {
		for i, g := range p.Grants {
			// Only the sharing of a part of the story has versions.
			if g.ID != grantID || g.Statutory || !a.sees(s, g.Category) || !s.isSection(g.Category) {
				continue
			}
			if !g.ActiveAt(now) {
				return fmt.Errorf("%w: this sharing has already ended", ErrConflict)
			}
			if version != 0 && !slices.ContainsFunc(hs, func(h Holding) bool {
				return isStory(h) && h.Category == g.Category && storyVersion(h) == version
			}) {
				return Invalid("version", "there is no such version")
			}
			p.Grants[i].StoryVersion = version
			changed = p.Grants[i]
			return nil
		}
		return ErrNotFound
	})
	if errors.Is(err, ErrNotFound) {
		return Grant{}, ErrNotFound
	}
	return changed, err
}
