"""A payment method that takes the money at once (a card already charged), and refunds it."""

from salesman.checkout.payment import PaymentMethod
from salesman.core.utils import get_salesman_model


class PayOnPlacement(PaymentMethod):
    identifier = "pay-on-placement"
    label = "Card (charged at once)"

    def basket_payment(self, basket, request):
        Order = get_salesman_model("Order")
        order = Order.objects.create_from_basket(basket, request)
        order.pay(order.total, transaction_id=f"txn-{order.ref}", payment_method=self.identifier)
        order.status = order.Status.PROCESSING
        order.save(update_fields=["status"])
        basket.delete()
        return {"ref": order.ref}

    def refund_payment(self, payment):
        return True
