// Package client is a typed Go client of the licensing HTTP API, generated
// by oapi-codegen from the committed OpenAPI document (../openapi.json), so
// it changes only when the document does. A test of package httpapi drives
// the guide's whole journey with it.
//
//	c, err := client.NewClientWithResponses("https://platform.example/api/v1",
//		client.WithRequestEditorFn(func(ctx context.Context, r *http.Request) error {
//			r.Header.Set("Authorization", "Bearer "+token) // the host's own credential
//			return nil
//		}))
//	res, err := c.ListOrdersWithResponse(ctx, &client.ListOrdersParams{Status: ptr(client.Requested)})
//	for _, o := range res.JSON200.Items { ... }
//
// Errors come back as res.ApplicationproblemJSONDefault, a Problem with the
// ledger's stable Code.
package client

//go:generate go run github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2 -generate types,client -package client -o client.gen.go ../openapi.json
