package httpapi

import (
	"context"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/licensing-go/licensing"
)

// out is the output of every operation but the stream: its body.
type out[T any] struct{ Body T }

// register adds one operation: its handler gets the authenticated actor and
// its errors become Problems.
func register[I, O any](a *API, op huma.Operation, h func(ctx context.Context, actor licensing.Actor, in *I) (O, error)) {
	op.Responses = map[string]*huma.Response{"default": a.problemResponse()}
	if op.MaxBodyBytes == 0 {
		op.MaxBodyBytes = a.cfg.MaxBodyBytes
	}
	huma.Register(a.huma, op, func(ctx context.Context, in *I) (*out[O], error) {
		v, err := h(ctx, actorOf(ctx), in)
		if err != nil {
			return nil, a.problem(ctx, err)
		}
		return &out[O]{Body: v}, nil
	})
}

func (a *API) problemResponse() *huma.Response {
	s := a.huma.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Problem](), true, "Problem")
	return &huma.Response{
		Description: "An error: an RFC 9457 problem with the ledger's stable code.",
		Content:     map[string]*huma.MediaType{"application/problem+json": {Schema: s}},
	}
}

// The inputs. Path and query parameters are spelled out per operation so
// the document names each; bodies are the root package's inputs where the
// path does not already carry a part of them.

type (
	noInput     struct{}
	partnerPath struct {
		Partner string `path:"partner" doc:"The partner's id."`
	}
	companyPath struct {
		Company string `path:"company" doc:"The company's id."`
	}
	orderPath struct {
		Order string `path:"order" doc:"The order's id."`
	}
	listTiers struct {
		After string `query:"after" doc:"The cursor: next of the previous page."`
		Limit int    `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	createTier struct {
		Key  string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Body licensing.NewTier
	}
	listPartners struct {
		Parent      string `query:"parent" doc:"Children of this partner; absent: of the actor's own partner (or the top-level partners for the system)."`
		Descendants bool   `query:"descendants" doc:"At any depth beneath, not only children."`
		Ref         string `query:"ref" doc:"Only the partner with this ref."`
		After       string `query:"after" doc:"The cursor: next of the previous page."`
		Limit       int    `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	createPartner struct {
		Key  string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Body licensing.NewPartner
	}
	listCompanies struct {
		Partner     string `query:"partner" doc:"Companies of this partner; absent: of the actor's partner."`
		Descendants bool   `query:"descendants" doc:"Also the companies of sub-partners, at any depth."`
		Ref         string `query:"ref" doc:"Only the company with this ref."`
		After       string `query:"after" doc:"The cursor: next of the previous page."`
		Limit       int    `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	createCompany struct {
		Key  string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Body licensing.NewCompany
	}
	updateCompany struct {
		Key     string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Company string `path:"company" doc:"The company's id."`
		Body    companySettings
	}
	companySettings struct {
		Name         *string              `json:"name,omitempty"`
		Managers     *[]licensing.Contact `json:"managers,omitempty"`
		AutoAllocate *string              `json:"auto_allocate,omitempty" doc:"The tier given to each learner who joins; \"\" switches auto-allocation off."`
	}
	listLearners struct {
		Company string                 `path:"company" doc:"The company's id."`
		State   licensing.LearnerState `query:"state" enum:"licensed,unlicensed,left,never_logged_in" doc:"Only learners in this state."`
		Tier    string                 `query:"tier" doc:"The tier the licensed and unlicensed states refer to; absent means premium."`
		After   string                 `query:"after" doc:"The cursor: next of the previous page."`
		Limit   int                    `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	showLearner struct {
		Company string `path:"company" doc:"The company's id."`
		Learner string `path:"learner" doc:"The learner's id, the host's own."`
	}
	learnerFact struct {
		Key     string    `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Company string    `path:"company" doc:"The company's id."`
		Learner string    `path:"learner" doc:"The learner's id, the host's own."`
		Body    *factBody `required:"false"`
	}
	factBody struct {
		At time.Time `json:"at,omitzero" doc:"When it happened; absent means now."`
	}
	entitlement struct {
		Company string `path:"company" doc:"The company's id."`
		Learner string `path:"learner" doc:"The learner's id, the host's own."`
		Tier    string `query:"tier" doc:"The tier; absent means premium."`
	}
	listLicences struct {
		Company string `path:"company" doc:"The company's id."`
		Learner string `query:"learner" doc:"Only this learner's licences."`
		Order   string `query:"order" doc:"Only licences from this order."`
		After   string `query:"after" doc:"The cursor: next of the previous page."`
		Limit   int    `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	allocate struct {
		Key     string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Company string `path:"company" doc:"The company's id."`
		Body    allocationBody
	}
	allocationBody struct {
		Tier     string   `json:"tier,omitempty" doc:"The tier; absent means premium."`
		Learners []string `json:"learners" doc:"The learners to license, 1 to 100,000."`
		Order    string   `json:"order,omitempty" doc:"Take every seat from this order; absent: first-expiring seats first."`
	}
	allocated struct {
		Licences []licensing.Licence `json:"licences"`
	}
	reallocate struct {
		Key     string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Company string `path:"company" doc:"The company's id."`
		Body    reallocationBody
	}
	reallocationBody struct {
		Tier        string `json:"tier,omitempty" doc:"The tier; absent means premium."`
		FromLearner string `json:"from_learner" doc:"The learner who left or never logged in."`
		ToLearner   string `json:"to_learner" doc:"The learner who gets the licence, with the same expiry."`
	}
	release struct {
		Key     string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Company string `path:"company" doc:"The company's id."`
		Body    releaseBody
	}
	releaseBody struct {
		Tier    string `json:"tier,omitempty" doc:"The tier; absent means premium."`
		Learner string `json:"learner" doc:"The learner who left or never logged in."`
	}
	listOrders struct {
		Company         string           `query:"company" doc:"Only this company's orders."`
		Partner         string           `query:"partner" doc:"Only orders of this partner's subtree."`
		Status          licensing.Status `query:"status" enum:"requested,assigned,rejected,cancelled,expired" doc:"Only orders in this status."`
		Tier            string           `query:"tier" doc:"Only orders of this tier."`
		PurchaseOrder   string           `query:"purchase_order" doc:"Only orders with this purchase-order reference."`
		RequestedFrom   time.Time        `query:"requested_from" doc:"Requested at or after (RFC 3339)."`
		RequestedBefore time.Time        `query:"requested_before" doc:"Requested before (RFC 3339)."`
		AssignedFrom    time.Time        `query:"assigned_from" doc:"Assigned at or after (RFC 3339)."`
		AssignedBefore  time.Time        `query:"assigned_before" doc:"Assigned before (RFC 3339)."`
		ExpiresBefore   time.Time        `query:"expires_before" doc:"Expiring before (RFC 3339)."`
		After           string           `query:"after" doc:"The cursor: next of the previous page."`
		Limit           int              `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	requestLicences struct {
		Key  string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Body licensing.LicenceRequest
	}
	orderAction struct {
		Key   string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Order string `path:"order" doc:"The order's id."`
	}
	rejectOrder struct {
		Key   string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Order string `path:"order" doc:"The order's id."`
		Body  rejectionBody
	}
	rejectionBody struct {
		Reason string `json:"reason" doc:"Why, for the requester."`
	}
	listEvents struct {
		Company string `query:"company" doc:"Only this company's events."`
		Partner string `query:"partner" doc:"Only events of this partner's subtree."`
		After   string `query:"after" doc:"The cursor: next of the previous page."`
		Limit   int    `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	forecast struct {
		Company string    `query:"company" doc:"Only this company."`
		Partner string    `query:"partner" doc:"Only the companies of this partner's subtree."`
		From    time.Time `query:"from" doc:"Report from this instant on (RFC 3339); absent or past means now."`
		Until   time.Time `query:"until" doc:"Required: the forecast's end, included (RFC 3339), at most 3660 days after from."`
	}
	listNotifications struct {
		State licensing.DeliveryState `query:"state" enum:"pending,delivered,parked" doc:"Only notifications in this delivery state."`
		After string                  `query:"after" doc:"The cursor: next of the previous page."`
		Limit int                     `query:"limit" doc:"The page size, 1 to 1000; 0 or absent means 50."`
	}
	notificationPath struct {
		Notification string `path:"notification" doc:"The notification's id."`
	}
	requeue struct {
		Key          string `header:"Idempotency-Key" doc:"Makes the write safe to retry: the same key with the same body returns the first response; with another body, 422 idempotency_key_reused. Scoped to the actor's tenant."`
		Notification string `path:"notification" doc:"The notification's id."`
	}
)

func (a *API) routes() {
	l := a.cfg.Ledger

	register(a, huma.Operation{OperationID: "get-actor", Method: http.MethodGet, Path: "/actor", Tags: []string{"Session"},
		Summary: "Who the request acts as", Description: "The actor the host's authentication names for this request."},
		func(ctx context.Context, actor licensing.Actor, _ *noInput) (licensing.Actor, error) {
			return actor, nil
		})

	// Tiers.
	register(a, huma.Operation{OperationID: "list-tiers", Method: http.MethodGet, Path: "/tiers", Tags: []string{"Tiers"},
		Summary: "List the tiers", Description: "The built-in and registered tiers, by name. Any actor may."},
		func(ctx context.Context, actor licensing.Actor, in *listTiers) (licensing.Page[licensing.Tier], error) {
			return l.Tiers(ctx, actor, licensing.TierFilter{After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "create-tier", Method: http.MethodPost, Path: "/tiers", Tags: []string{"Tiers"},
		DefaultStatus: http.StatusCreated, Summary: "Register a tier", Description: "System only. A taken name is 409 conflict."},
		func(ctx context.Context, actor licensing.Actor, in *createTier) (licensing.Tier, error) {
			in.Body.IdempotencyKey = in.Key
			return l.RegisterTier(ctx, actor, in.Body)
		})

	// Partners.
	register(a, huma.Operation{OperationID: "list-partners", Method: http.MethodGet, Path: "/partners", Tags: []string{"Partners"},
		Summary: "List partners", Description: "The sub-partners the actor may see."},
		func(ctx context.Context, actor licensing.Actor, in *listPartners) (licensing.Page[licensing.Partner], error) {
			return l.Partners(ctx, actor, licensing.PartnerFilter{Parent: in.Parent, Descendants: in.Descendants, Ref: in.Ref, After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "create-partner", Method: http.MethodPost, Path: "/partners", Tags: []string{"Partners"},
		DefaultStatus: http.StatusCreated, Summary: "Create a partner",
		Description: "A top-level partner (system), or a sub-partner beneath the actor's partner. The ref is unique beneath the parent."},
		func(ctx context.Context, actor licensing.Actor, in *createPartner) (licensing.Partner, error) {
			in.Body.IdempotencyKey = in.Key
			return l.CreatePartner(ctx, actor, in.Body)
		})
	register(a, huma.Operation{OperationID: "get-partner", Method: http.MethodGet, Path: "/partners/{partner}", Tags: []string{"Partners"},
		Summary: "Show a partner"},
		func(ctx context.Context, actor licensing.Actor, in *partnerPath) (licensing.Partner, error) {
			return l.Partner(ctx, actor, in.Partner)
		})
	register(a, huma.Operation{OperationID: "get-partner-summary", Method: http.MethodGet, Path: "/partners/{partner}/summary", Tags: []string{"Partners"},
		Summary: "A partner's licences", Description: "Available, allocated, expiring, expired and requested seats per tier, over the partner's companies at any depth."},
		func(ctx context.Context, actor licensing.Actor, in *partnerPath) (licensing.Summary, error) {
			return l.PartnerSummary(ctx, actor, in.Partner)
		})

	// Companies.
	register(a, huma.Operation{OperationID: "list-companies", Method: http.MethodGet, Path: "/companies", Tags: []string{"Companies"},
		Summary: "List companies", Description: "A company manager sees its own company only."},
		func(ctx context.Context, actor licensing.Actor, in *listCompanies) (licensing.Page[licensing.Company], error) {
			return l.Companies(ctx, actor, licensing.CompanyFilter{Partner: in.Partner, Descendants: in.Descendants, Ref: in.Ref, After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "create-company", Method: http.MethodPost, Path: "/companies", Tags: []string{"Companies"},
		DefaultStatus: http.StatusCreated, Summary: "Add a company",
		Description: "Beneath the actor's partner (or the named partner of its subtree), with an optional purchase order requested, and assigned if asked, in the same step."},
		func(ctx context.Context, actor licensing.Actor, in *createCompany) (licensing.CreatedCompany, error) {
			in.Body.IdempotencyKey = in.Key
			return l.CreateCompany(ctx, actor, in.Body)
		})
	register(a, huma.Operation{OperationID: "get-company", Method: http.MethodGet, Path: "/companies/{company}", Tags: []string{"Companies"},
		Summary: "Show a company"},
		func(ctx context.Context, actor licensing.Actor, in *companyPath) (licensing.Company, error) {
			return l.Company(ctx, actor, in.Company)
		})
	register(a, huma.Operation{OperationID: "update-company", Method: http.MethodPatch, Path: "/companies/{company}", Tags: []string{"Companies"},
		Summary: "Change a company's settings", Description: "Fields left out are left as they are."},
		func(ctx context.Context, actor licensing.Actor, in *updateCompany) (licensing.Company, error) {
			return l.UpdateCompany(ctx, actor, licensing.CompanySettings{Company: in.Company, Name: in.Body.Name,
				Managers: in.Body.Managers, AutoAllocate: in.Body.AutoAllocate, IdempotencyKey: in.Key})
		})
	register(a, huma.Operation{OperationID: "get-company-summary", Method: http.MethodGet, Path: "/companies/{company}/summary", Tags: []string{"Companies"},
		Summary: "A company's licences", Description: "Available, allocated, expiring, expired and requested seats per tier."},
		func(ctx context.Context, actor licensing.Actor, in *companyPath) (licensing.Summary, error) {
			return l.CompanySummary(ctx, actor, in.Company)
		})

	// Learners.
	register(a, huma.Operation{OperationID: "list-learners", Method: http.MethodGet, Path: "/companies/{company}/learners", Tags: []string{"Learners"},
		Summary: "List a company's learners"},
		func(ctx context.Context, actor licensing.Actor, in *listLearners) (licensing.Page[licensing.Learner], error) {
			return l.Learners(ctx, actor, licensing.LearnerFilter{Company: in.Company, State: in.State, Tier: in.Tier, After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "get-learner", Method: http.MethodGet, Path: "/companies/{company}/learners/{learner}", Tags: []string{"Learners"},
		Summary: "Show a learner"},
		func(ctx context.Context, actor licensing.Actor, in *showLearner) (licensing.Learner, error) {
			return l.Learner(ctx, actor, licensing.LearnerRef{Company: in.Company, Learner: in.Learner})
		})
	facts := []struct {
		id, path, summary string
		do                func(context.Context, licensing.Actor, licensing.LearnerFact) (licensing.Learner, error)
	}{
		{"learner-joined", "joined", "Record that a learner joined", l.LearnerJoined},
		{"learner-logged-in", "logins", "Record that a learner logged in", l.LearnerLoggedIn},
		{"learner-left", "left", "Record that a learner left the company", l.LearnerLeft},
	}
	for _, f := range facts {
		register(a, huma.Operation{OperationID: f.id, Method: http.MethodPost, Path: "/companies/{company}/learners/{learner}/" + f.path,
			Tags: []string{"Learners"}, Summary: f.summary, Description: "System only: learner facts are the host platform's."},
			func(ctx context.Context, actor licensing.Actor, in *learnerFact) (licensing.Learner, error) {
				fact := licensing.LearnerFact{Company: in.Company, Learner: in.Learner, IdempotencyKey: in.Key}
				if in.Body != nil {
					fact.At = in.Body.At
				}
				return f.do(ctx, actor, fact)
			})
	}
	register(a, huma.Operation{OperationID: "get-entitlement", Method: http.MethodGet, Path: "/companies/{company}/learners/{learner}/entitlement",
		Tags: []string{"Learners"}, Summary: "Is the learner entitled to a tier now"},
		func(ctx context.Context, actor licensing.Actor, in *entitlement) (licensing.Entitlement, error) {
			return l.Entitlement(ctx, actor, licensing.EntitlementCheck{Company: in.Company, Learner: in.Learner, Tier: in.Tier})
		})

	// Licences.
	register(a, huma.Operation{OperationID: "list-licences", Method: http.MethodGet, Path: "/companies/{company}/licences", Tags: []string{"Licences"},
		Summary: "List a company's licences"},
		func(ctx context.Context, actor licensing.Actor, in *listLicences) (licensing.Page[licensing.Licence], error) {
			return l.Licences(ctx, actor, licensing.LicenceFilter{Company: in.Company, Learner: in.Learner, Order: in.Order, After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "allocate", Method: http.MethodPost, Path: "/companies/{company}/allocations", Tags: []string{"Licences"},
		DefaultStatus: http.StatusCreated, MaxBodyBytes: a.cfg.MaxBulkBodyBytes, Summary: "Allocate licences to learners",
		Description: "All or nothing: one licence per learner, first-expiring seats first. Not enough free seats is 409 insufficient_licences with needed and free."},
		func(ctx context.Context, actor licensing.Actor, in *allocate) (allocated, error) {
			ls, err := l.Allocate(ctx, actor, licensing.Allocation{Company: in.Company, Tier: in.Body.Tier,
				Learners: in.Body.Learners, Order: in.Body.Order, IdempotencyKey: in.Key})
			return allocated{Licences: ls}, err
		})
	register(a, huma.Operation{OperationID: "reallocate", Method: http.MethodPost, Path: "/companies/{company}/reallocations", Tags: []string{"Licences"},
		DefaultStatus: http.StatusCreated, Summary: "Move a licence to another learner",
		Description: "From a learner who left or never logged in; the new licence keeps the expiry."},
		func(ctx context.Context, actor licensing.Actor, in *reallocate) (licensing.Licence, error) {
			return l.Reallocate(ctx, actor, licensing.Reallocation{Company: in.Company, Tier: in.Body.Tier,
				FromLearner: in.Body.FromLearner, ToLearner: in.Body.ToLearner, IdempotencyKey: in.Key})
		})
	register(a, huma.Operation{OperationID: "release", Method: http.MethodPost, Path: "/companies/{company}/releases", Tags: []string{"Licences"},
		Summary: "Release a licence back to the pool", Description: "From a learner who left or never logged in."},
		func(ctx context.Context, actor licensing.Actor, in *release) (licensing.Licence, error) {
			return l.ReleaseLicence(ctx, actor, licensing.Release{Company: in.Company, Tier: in.Body.Tier,
				Learner: in.Body.Learner, IdempotencyKey: in.Key})
		})

	// Orders.
	register(a, huma.Operation{OperationID: "list-orders", Method: http.MethodGet, Path: "/orders", Tags: []string{"Orders"},
		Summary: "List orders", Description: "Newest first, narrowed to the actor's tenancy."},
		func(ctx context.Context, actor licensing.Actor, in *listOrders) (licensing.Page[licensing.Order], error) {
			return l.Orders(ctx, actor, licensing.OrderFilter{Company: in.Company, Partner: in.Partner, Status: in.Status,
				Tier: in.Tier, PurchaseOrder: in.PurchaseOrder, RequestedFrom: in.RequestedFrom, RequestedBefore: in.RequestedBefore,
				AssignedFrom: in.AssignedFrom, AssignedBefore: in.AssignedBefore, ExpiresBefore: in.ExpiresBefore,
				After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "request-licences", Method: http.MethodPost, Path: "/orders", Tags: []string{"Orders"},
		DefaultStatus: http.StatusCreated, Summary: "Request licences",
		Description: "An order in the requested state, for the company's partner to assign or reject."},
		func(ctx context.Context, actor licensing.Actor, in *requestLicences) (licensing.Order, error) {
			in.Body.IdempotencyKey = in.Key
			return l.RequestLicences(ctx, actor, in.Body)
		})
	register(a, huma.Operation{OperationID: "get-order", Method: http.MethodGet, Path: "/orders/{order}", Tags: []string{"Orders"},
		Summary: "Show an order"},
		func(ctx context.Context, actor licensing.Actor, in *orderPath) (licensing.Order, error) {
			return l.Order(ctx, actor, in.Order)
		})
	register(a, huma.Operation{OperationID: "assign-order", Method: http.MethodPost, Path: "/orders/{order}/assign", Tags: []string{"Orders"},
		Summary: "Assign a requested order", Description: "A partner manager of the company's partner (or above): the seats become available and the term starts now."},
		func(ctx context.Context, actor licensing.Actor, in *orderAction) (licensing.Order, error) {
			return l.AssignOrder(ctx, actor, licensing.OrderAssignment{Order: in.Order, IdempotencyKey: in.Key})
		})
	register(a, huma.Operation{OperationID: "reject-order", Method: http.MethodPost, Path: "/orders/{order}/reject", Tags: []string{"Orders"},
		Summary: "Reject a requested order"},
		func(ctx context.Context, actor licensing.Actor, in *rejectOrder) (licensing.Order, error) {
			return l.RejectOrder(ctx, actor, licensing.OrderRejection{Order: in.Order, Reason: in.Body.Reason, IdempotencyKey: in.Key})
		})
	register(a, huma.Operation{OperationID: "cancel-order", Method: http.MethodPost, Path: "/orders/{order}/cancel", Tags: []string{"Orders"},
		Summary: "Cancel a requested order"},
		func(ctx context.Context, actor licensing.Actor, in *orderAction) (licensing.Order, error) {
			return l.CancelOrder(ctx, actor, licensing.OrderCancellation{Order: in.Order, IdempotencyKey: in.Key})
		})

	// Events.
	register(a, huma.Operation{OperationID: "list-events", Method: http.MethodGet, Path: "/events", Tags: []string{"Events"},
		Summary: "The audit trail", Description: "Oldest first. Each event carries its cursor: poll with after set to the last one handled to get what commits later."},
		func(ctx context.Context, actor licensing.Actor, in *listEvents) (licensing.Page[licensing.Event], error) {
			return l.Events(ctx, actor, licensing.EventFilter{Company: in.Company, Partner: in.Partner, After: in.After, Limit: in.Limit})
		})
	a.registerStream()

	// Forecast.
	register(a, huma.Operation{OperationID: "get-forecast", Method: http.MethodGet, Path: "/forecast", Tags: []string{"Forecast"},
		Summary: "What the sweep will do until a date",
		Description: "The reminders and when, the expiries and who loses access or continues on another order, and the seats to order to keep every learner licensed: " +
			"the sweep's own rules run on a virtual clock; nothing is written. Narrowed to the actor's tenancy."},
		func(ctx context.Context, actor licensing.Actor, in *forecast) (licensing.Forecast, error) {
			return l.Forecast(ctx, actor, licensing.ForecastInput{Company: in.Company, Partner: in.Partner, From: in.From, Until: in.Until})
		})

	// Notifications and scheduled work: the system's.
	register(a, huma.Operation{OperationID: "list-notifications", Method: http.MethodGet, Path: "/notifications", Tags: []string{"Notifications"},
		Summary: "List the outbox", Description: "System only."},
		func(ctx context.Context, actor licensing.Actor, in *listNotifications) (licensing.Page[licensing.Notification], error) {
			return l.Notifications(ctx, actor, licensing.NotificationFilter{State: in.State, After: in.After, Limit: in.Limit})
		})
	register(a, huma.Operation{OperationID: "get-notification", Method: http.MethodGet, Path: "/notifications/{notification}", Tags: []string{"Notifications"},
		Summary: "Show a notification", Description: "System only."},
		func(ctx context.Context, actor licensing.Actor, in *notificationPath) (licensing.Notification, error) {
			return l.Notification(ctx, actor, in.Notification)
		})
	register(a, huma.Operation{OperationID: "requeue-notification", Method: http.MethodPost, Path: "/notifications/{notification}/requeue", Tags: []string{"Notifications"},
		Summary: "Send a parked notification back to be delivered", Description: "System only."},
		func(ctx context.Context, actor licensing.Actor, in *requeue) (licensing.Notification, error) {
			return l.Requeue(ctx, actor, licensing.NotificationRequeue{Notification: in.Notification, IdempotencyKey: in.Key})
		})
	register(a, huma.Operation{OperationID: "sweep", Method: http.MethodPost, Path: "/sweep", Tags: []string{"Operations"},
		Summary:     "Record expiries and queue due reminders",
		Description: "System only. Safe to repeat: a second sweep finds nothing more to do, so it takes no Idempotency-Key."},
		func(ctx context.Context, actor licensing.Actor, _ *noInput) (licensing.SweepResult, error) {
			return l.Sweep(ctx, actor)
		})
	register(a, huma.Operation{OperationID: "deliver", Method: http.MethodPost, Path: "/deliver", Tags: []string{"Operations"},
		Summary:     "Deliver the notifications that are due",
		Description: "System only. Safe to repeat: each notification is delivered once, so it takes no Idempotency-Key."},
		func(ctx context.Context, actor licensing.Actor, _ *noInput) (licensing.DeliveryResult, error) {
			return l.Deliver(ctx, actor)
		})
}
